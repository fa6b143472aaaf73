// Collector: reads one request's RequestChannel on the test's thread, for
// engine tests without gRPC.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "engine/serving/request_channel.h"

namespace gqa::testing {

// A bound on waits for the engine thread, never reached unless a test fails.
constexpr std::chrono::seconds kWait{60};

// Reads one request's channel on the calling thread, waiting on a condition
// variable between wake-ups (the server hops to a gRPC thread instead).
class Collector {
 public:
  Collector() : channel_(std::make_shared<RequestChannel>([this] { Wake(); })) {}
  std::shared_ptr<RequestChannel> channel() { return channel_; }

  // Everything up to and including the final delta.
  RequestDelta CollectAll() {
    RequestDelta all;
    for (;;) {
      RequestDelta d;
      if (channel_->TakeOrArm(&d)) {
        all.MergeFrom(std::move(d));
        if (all.finished) return all;
        continue;
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, kWait, [&] { return woken_; })) {
        ADD_FAILURE() << "no final delta";
        return all;
      }
      woken_ = false;
    }
  }

 private:
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
    cv_.notify_all();
  }
  std::shared_ptr<RequestChannel> channel_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace gqa::testing
