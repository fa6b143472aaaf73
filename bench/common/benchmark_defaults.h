// Start-up shared by the Google Benchmark programs under bench/cpu: this
// repo's defaults for the benchmark flags, the "_min" aggregate they report.
#pragma once

#include <algorithm>
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

}  // namespace gqa::bench
