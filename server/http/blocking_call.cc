#include "server/http/blocking_call.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace gqa {
namespace {

void Signal(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(fd, &one, sizeof(one));
}

}  // namespace

BlockingCall::BlockingCall(const ServingContext& context, int client_socket)
    : wake_fd_(eventfd(0, EFD_CLOEXEC)),
      socket_(client_socket),
      // The pump captures the fd, not `this`: writing it is its last act. It
      // runs on the engine thread (an eventfd write never blocks), so no
      // grpc::Alarm hop: none is left in the call when this thread, woken by
      // that write, destroys it (ThreadSanitizer saw the engine thread still
      // in Alarm::Set while an HTTP thread destroyed the call's alarm).
      call_(
          context, [fd = wake_fd_] { Signal(fd); }, GenerationCall::PumpOn::kEngineThread) {}

BlockingCall::~BlockingCall() {
  if (started_ && !finished_) {
    Cancel();
    GenerationCall::Update u;
    while (!finished_) Next(&u);
  }
  if (wake_fd_ >= 0) close(wake_fd_);
}

grpc::Status BlockingCall::Start(const v1::GenerateRequest& request) {
  if (wake_fd_ < 0) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "cannot create an eventfd for the request");
  }
  grpc::Status s = call_.Start(request);
  started_ = s.ok();
  return s;
}

void BlockingCall::Cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  call_.Cancel();
}

void BlockingCall::Next(GenerationCall::Update* update) {
  while (true) {
    if (!armed_) {
      if (call_.Next(update)) {
        finished_ = update->final;
        return;
      }
      armed_ = true;  // the channel is armed: wait for the pump
    }
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {socket_, POLLRDHUP, 0}};
    // Once cancelled the socket is not watched: a hung-up socket stays ready.
    const nfds_t n = (socket_ >= 0 && !cancelled_) ? 2 : 1;
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      // Cannot wait: never spin. Cancel and let the final update end this.
      Cancel();
      continue;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count = 0;
      [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
      armed_ = false;
    }
    if (n == 2 && (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR))) Cancel();
  }
}

}  // namespace gqa
