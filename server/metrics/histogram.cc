#include "server/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gqa::metrics {

absl::Status Histogram::ValidateBounds(const std::vector<double>& upper_bounds) {
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) {
      return absl::InvalidArgumentError(absl::StrCat("histogram bucket bound ", i,
                                                     " is not finite (", upper_bounds[i],
                                                     "); +Inf is implicit"));
    }
    if (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram bucket bounds must increase strictly: bound ", i, " (",
                       upper_bounds[i], ") <= bound ", i - 1, " (", upper_bounds[i - 1], ")"));
    }
  }
  return absl::OkStatus();
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) bucket_counts_[i].store(0);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  // First bound >= value: Prometheus buckets are `le` (less or equal).
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::Collect(SeriesSnapshot* out) const {
  HistogramSnapshot& h = out->histogram;
  h.upper_bounds = upper_bounds_;
  h.cumulative_counts.resize(upper_bounds_.size() + 1);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += bucket_counts_[i].load(std::memory_order_relaxed);
    h.cumulative_counts[i] = cumulative;
  }
  h.count = cumulative;
  h.sum = sum_.load(std::memory_order_relaxed);
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::vector<double> PowersOfTwoBuckets(int max_power_of_two) {
  std::vector<double> bounds;
  for (long long b = 1; b <= max_power_of_two; b *= 2) bounds.push_back(static_cast<double>(b));
  return bounds;
}

}  // namespace gqa::metrics
