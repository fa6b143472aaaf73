// The drivers' clock: run-relative seconds as RequestRecord keeps them.
#pragma once

#include <chrono>

namespace gqa::loadgen {

using Clock = std::chrono::steady_clock;

// Seconds from `t0` (the run's start) to now.
inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The time point `seconds` after `t0` (an item's scheduled arrival).
inline Clock::time_point At(Clock::time_point t0, double seconds) {
  return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace gqa::loadgen
