// Plain data a Registry collects from its metrics at scrape time, and the text
// formatter renders. Decouples "what the values are" (counter.h, gauge.h,
// histogram.h) from "how Prometheus wants them spelled" (text_format.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gqa::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

struct Label {
  std::string name;
  std::string value;  // any UTF-8; escaped by the formatter
};

// One histogram series. Invariants: upper_bounds strictly increasing and
// finite (the implicit last bucket is +Inf); cumulative_counts has
// upper_bounds.size() + 1 entries, non-decreasing, the last == count.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;
  std::vector<uint64_t> cumulative_counts;
  double sum = 0;
  uint64_t count = 0;
};

// One labelled series of a family.
struct SeriesSnapshot {
  std::vector<Label> labels;    // in the family's label-name order
  double value = 0;             // counter and gauge
  HistogramSnapshot histogram;  // histogram only
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<SeriesSnapshot> series;  // sorted by label values
};

}  // namespace gqa::metrics
