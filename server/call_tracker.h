// CallTracker: counts the Generate / GenerateStream calls still open, so a
// drain can wait until the last final message has gone out before it shuts
// the gRPC server down. (grpc::Server::Shutdown(deadline) would otherwise wait
// for the whole deadline whenever a client keeps an idle connection open.)
//
// Thread ownership: thread-safe; Begin/End from reactors, WaitForNone from
// the draining thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace gqa {

class CallTracker {
 public:
  void Begin() {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_;
  }
  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--open_ == 0) cv_.notify_all();
  }
  // True when no call is open (within `timeout`).
  bool WaitForNone(std::chrono::nanoseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 0;
};

}  // namespace gqa
