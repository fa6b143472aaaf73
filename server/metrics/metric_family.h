// Family<M>: all series of one metric name, one per set of label values
// (e.g. gqa_requests_finished_total{reason="stop"} and {reason="length"}).
//
// Thread safety: WithLabels and Collect take the family's mutex; the returned
// series pointers are then used lock-free (they live as long as the family).
// Hot paths should look a series up once and keep the pointer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/metrics/metric_snapshot.h"

namespace gqa::metrics {

// What the Registry holds: any family, seen only through its snapshot.
class Collectable {
 public:
  virtual ~Collectable() = default;
  virtual const std::string& name() const = 0;
  virtual MetricType type() const = 0;
  virtual FamilySnapshot Collect() const = 0;
};

// M: Counter, Gauge or Histogram (has kType and Collect(SeriesSnapshot*)).
template <typename M>
class Family final : public Collectable {
 public:
  using Factory = std::function<std::unique_ptr<M>()>;

  // Names are validated by the Registry, which is the only caller.
  Family(std::string name, std::string help, std::vector<std::string> label_names, Factory make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The series for `label_values` (one per label name, in the same order),
  // created at zero on first use. Values may be any string; the formatter
  // escapes them. Each distinct value set is a new series for as long as the
  // process lives, so callers must keep the value sets few (bounded enums).
  absl::StatusOr<M*> WithLabels(const std::vector<std::string>& label_values) {
    if (label_values.size() != label_names_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", name_, " has ", label_names_.size(), " label(s) (",
          absl::StrJoin(label_names_, ", "), "); got ", label_values.size(), " value(s)"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<M>& series = series_[label_values];
    if (series == nullptr) series = make_();
    return series.get();
  }

  const std::string& name() const override { return name_; }
  MetricType type() const override { return M::kType; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  FamilySnapshot Collect() const override {
    FamilySnapshot family{name_, help_, M::kType, {}};
    std::lock_guard<std::mutex> lock(mu_);
    family.series.reserve(series_.size());
    for (const auto& [values, metric] : series_) {
      SeriesSnapshot& s = family.series.emplace_back();
      for (size_t i = 0; i < values.size(); ++i) s.labels.push_back({label_names_[i], values[i]});
      metric->Collect(&s);
    }
    return family;
  }

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const Factory make_;
  mutable std::mutex mu_;
  // Guarded by mu_. Ordered by label values so renders are deterministic.
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_;
};

}  // namespace gqa::metrics
