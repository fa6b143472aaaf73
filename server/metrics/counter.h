// Counter: a monotonically increasing value (Prometheus type `counter`).
//
// Thread safety: lock-free; any thread may Increment and Collect concurrently.
#pragma once

#include <atomic>

#include "server/metrics/metric_snapshot.h"

namespace gqa::metrics {

class Counter {
 public:
  static constexpr MetricType kType = MetricType::kCounter;

  // Adds `amount`. A counter never goes down: negative and NaN amounts are
  // ignored rather than corrupting it (they can only come from a caller bug).
  void Increment(double amount = 1) {
    if (!(amount > 0)) return;  // also false for NaN
    value_.fetch_add(amount, std::memory_order_relaxed);
  }

  double Value() const { return value_.load(std::memory_order_relaxed); }

  void Collect(SeriesSnapshot* out) const { out->value = Value(); }

 private:
  // double, as in Prometheus; integer increments stay exact up to 2^53.
  std::atomic<double> value_{0};
};

}  // namespace gqa::metrics
