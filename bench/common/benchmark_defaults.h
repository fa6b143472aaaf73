// Shared by the Google Benchmark programs under bench/cpu: this repo's
// defaults for the benchmark flags, the timing of each call and the "_min"
// aggregate they report.
#pragma once

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "benchmark/benchmark.h"

namespace gqa::bench {

// benchmark::Initialize with our defaults placed first, so the same
// --benchmark_ flag on the command line wins: 3 repetitions of at least
// `min_time` seconds, repetitions of all benchmarks interleaved in random
// order, aggregates only. Then absl parses the program's own flags.
inline void InitializeWithDefaults(int argc, char** argv, const std::string& min_time = "0.05") {
  static std::vector<std::string> defaults = {
      "--benchmark_repetitions=3", "--benchmark_min_time=" + min_time,
      "--benchmark_enable_random_interleaving=true", "--benchmark_report_aggregates_only=true"};
  static std::vector<char*> args;
  args = {argv[0]};
  for (std::string& d : defaults) args.push_back(d.data());
  args.insert(args.end(), argv + 1, argv + argc);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  absl::ParseCommandLine(n, args.data());
}

// The "min" statistic: the fastest repetition, the most repeatable number on
// a shared machine (ComputeStatistics("min", MinOf)).
inline double MinOf(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Runs `call` once per benchmark iteration, each call timed on its own for a
// UseManualTime benchmark, and returns the fastest call in seconds (the
// "best_us" counters: the most repeatable number on a shared machine).
template <typename Call>
double TimeEachCall(benchmark::State& state, Call&& call) {
  double best_s = std::numeric_limits<double>::infinity();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    benchmark::ClobberMemory();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    best_s = std::min(best_s, s);
  }
  return best_s;
}

}  // namespace gqa::bench
