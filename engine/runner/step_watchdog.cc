#include "engine/runner/step_watchdog.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace gqa {

StepWatchdog::StepWatchdog(const Engine* engine, std::chrono::nanoseconds limit,
                           OnTimeout on_timeout)
    : engine_(engine), limit_(limit), on_timeout_(std::move(on_timeout)) {
  thread_ = std::thread([this] { Loop(); });
}

StepWatchdog::~StepWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool StepWatchdog::WaitForStop(std::chrono::nanoseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return stop_; });
}

void StepWatchdog::Loop() {
  // A quarter of the limit: a hung step is noticed within 1.25 limits.
  const std::chrono::nanoseconds period = std::clamp<std::chrono::nanoseconds>(
      limit_ / 4, std::chrono::milliseconds(1), std::chrono::seconds(1));
  while (!WaitForStop(period)) {
    const std::optional<std::chrono::nanoseconds> ran_for = engine_->step_running_for();
    if (ran_for && *ran_for > limit_) {
      on_timeout_(*ran_for, *this);
      return;
    }
  }
}

}  // namespace gqa
