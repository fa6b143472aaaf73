// Histogram: counts observations into fixed buckets (Prometheus type
// `histogram`), plus their sum and count.
//
// Thread safety: lock-free; one atomic per bucket. Observe and Collect may run
// concurrently on any threads. A Collect racing an Observe may see the bucket
// increment without the sum (or the reverse), never a torn bucket; _count is
// derived from the buckets, so the +Inf bucket always equals _count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "server/metrics/metric_snapshot.h"

namespace gqa::metrics {

class Histogram {
 public:
  static constexpr MetricType kType = MetricType::kHistogram;

  // OK when `upper_bounds` is strictly increasing and every bound finite
  // (+Inf is implicit). Empty is allowed: only the +Inf bucket.
  static absl::Status ValidateBounds(const std::vector<double>& upper_bounds);

  // Precondition: ValidateBounds(upper_bounds).ok() (Registry checks it).
  explicit Histogram(std::vector<double> upper_bounds);

  // Counts `value` in the first bucket with value <= le. NaN is ignored: it
  // would poison _sum for the life of the process.
  void Observe(double value);

  void Collect(SeriesSnapshot* out) const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  // upper_bounds_.size() + 1 non-cumulative counts; the last is (max, +Inf].
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;
  std::atomic<double> sum_{0};
};

// Bucket layouts. Each returns strictly increasing finite bounds.
// {start, start*factor, ...}, `count` bounds; start > 0, factor > 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// {1, 2, 4, ..., max_power_of_two}; for token counts.
std::vector<double> PowersOfTwoBuckets(int max_power_of_two);

}  // namespace gqa::metrics
