// Gauge: a value that goes up and down (Prometheus type `gauge`).
//
// Thread safety: lock-free; any thread may Set/Add and Collect concurrently.
#pragma once

#include <atomic>

#include "server/metrics/metric_snapshot.h"

namespace gqa::metrics {

class Gauge {
 public:
  static constexpr MetricType kType = MetricType::kGauge;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }

  double Value() const { return value_.load(std::memory_order_relaxed); }

  void Collect(SeriesSnapshot* out) const { out->value = Value(); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace gqa::metrics
