// Arrival times of a benchmark's requests: a Poisson process, or a gamma
// renewal process for burstier (or smoother) traffic, as vLLM's
// `bench serve --burstiness` does.
//
// Thread ownership: pure functions, no state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::loadgen {

// Seconds after the benchmark's start at which each of `n` requests arrives:
// the first at 0, then gaps drawn from Gamma(shape k = burstiness,
// scale = 1 / (rate * k)), so the mean gap is 1 / rate whatever k is. k = 1
// gives exponential gaps (a Poisson process); k < 1 burstier, k > 1 more
// regular. rate = +inf: every request at 0. Non-decreasing; reproducible for
// a given seed (libstdc++'s std::gamma_distribution over std::mt19937_64).
// Preconditions: n >= 0, rate > 0, burstiness > 0.
std::vector<double> ArrivalTimes(int n, double rate, double burstiness, uint64_t seed);

// "inf" (or "infinity") -> +inf; otherwise a finite number > 0, in requests/s.
// INVALID_ARGUMENT names `flag`.
absl::StatusOr<double> ParseRequestRate(const std::string& flag, const std::string& text);

// "1,2,4,inf" -> {1, 2, 4, inf}; at least one rate.
absl::StatusOr<std::vector<double>> ParseRequestRates(const std::string& flag,
                                                      const std::string& text);

// "inf" or the shortest decimal form, e.g. "2.5"; for tables, labels and JSON.
std::string RateName(double rate);

}  // namespace gqa::loadgen
