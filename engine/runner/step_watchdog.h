// StepWatchdog: notices an engine step that runs past a limit (a hung device:
// a kernel that never completes, a wedged driver). The engine thread can't
// notice that itself, being the thread that is stuck, so a thread of the
// watchdog's own polls Engine::step_running_for() every limit / 4 (at least
// 1 ms, at most 1 s) and, the first time a step has run longer than `limit`,
// calls `on_timeout` once with how long it had run (and the watchdog, whose
// WaitForStop lets it wait out a grace), then stops watching.
//
// What to do then is the owner's choice; gqa-server's (server_app.h): health
// NOT_SERVING, gqa_engine_failures_total{cause="step_timeout"}, new requests
// UNAVAILABLE, and the process exits with kStepTimeoutExitCode after a short
// grace so that a supervisor restarts it: a hung device cannot be recovered
// in-process, and the stuck engine thread still owns every request's state.
//
// Thread ownership: construct and destroy on one thread; `on_timeout` runs on
// the watchdog's thread and may block (the destructor then waits for it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/runner/engine.h"

namespace gqa {

class StepWatchdog {
 public:
  // `engine` must outlive the watchdog; `limit` > 0.
  using OnTimeout = std::function<void(std::chrono::nanoseconds ran_for, StepWatchdog& self)>;
  StepWatchdog(const Engine* engine, std::chrono::nanoseconds limit, OnTimeout on_timeout);
  ~StepWatchdog();  // stops watching; joins the thread
  StepWatchdog(const StepWatchdog&) = delete;
  StepWatchdog& operator=(const StepWatchdog&) = delete;

  // Waits up to `timeout` for the destructor to begin; true when it has.
  // For an `on_timeout` that waits out a grace before acting.
  bool WaitForStop(std::chrono::nanoseconds timeout);

 private:
  void Loop();

  const Engine* const engine_;
  const std::chrono::nanoseconds limit_;
  const OnTimeout on_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace gqa
