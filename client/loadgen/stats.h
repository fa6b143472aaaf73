// Summary statistics of a sample: mean, std, median and percentiles with
// numpy's default (linear) interpolation, as vLLM's benchmark reports them.
//
// Thread ownership: pure functions.
#pragma once

#include <vector>

namespace gqa::loadgen {

struct Summary {
  int count = 0;
  double mean = 0;
  double std = 0;  // population standard deviation (numpy's default, ddof 0)
  double min = 0;
  double median = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

// The p-th percentile (p in [0, 100]) of ascending `sorted`, interpolating
// linearly between the two nearest ranks: rank = p / 100 * (n - 1).
// 0 when empty.
double Percentile(const std::vector<double>& sorted, double p);

// All zero with count 0 for an empty sample.
Summary Summarize(std::vector<double> values);

}  // namespace gqa::loadgen
