#include "server/metrics/registry.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gqa::metrics {
namespace {

bool IsMetricNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool IsValidMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsMetricNameChar(name[i], i == 0)) return false;
  }
  return true;
}

// Like a metric name, without ':'.
bool IsValidLabelName(const std::string& name) {
  return IsValidMetricName(name) && name.find(':') == std::string::npos;
}

// The sample names a family puts on the wire; two families must not share one
// (a histogram "x" owns x_bucket, x_sum and x_count).
std::vector<std::string> SampleNames(const std::string& name, MetricType type) {
  if (type != MetricType::kHistogram) return {name};
  return {name + "_bucket", name + "_sum", name + "_count"};
}

}  // namespace

absl::Status Registry::CheckNewFamily(const std::string& name,
                                      const std::vector<std::string>& label_names,
                                      MetricType type) const {
  if (!IsValidMetricName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric name '", name, "' does not match [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  if (type == MetricType::kCounter && !absl::EndsWith(name, "_total")) {
    return absl::InvalidArgumentError(absl::StrCat("counter name '", name, "' must end in _total"));
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label) || absl::StartsWith(label, "__")) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": label name '", label,
                       "' does not match [a-zA-Z_][a-zA-Z0-9_]* or starts with the reserved '__'"));
    }
    if (type == MetricType::kHistogram && label == "le") {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram ", name, ": label name 'le' is reserved for buckets"));
    }
    if (!seen.insert(label).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": label name '", label, "' is repeated"));
    }
  }
  absl::flat_hash_set<std::string> taken;
  for (const auto& family : families_) {
    if (family->name() == name) {
      return absl::AlreadyExistsError(absl::StrCat("metric ", name, " is already registered"));
    }
    for (std::string& sample : SampleNames(family->name(), family->type())) {
      taken.insert(std::move(sample));
    }
  }
  for (const std::string& sample : SampleNames(name, type)) {
    if (taken.contains(sample)) {
      return absl::AlreadyExistsError(
          absl::StrCat("metric ", name, ": sample name '", sample, "' is already registered"));
    }
  }
  return absl::OkStatus();
}

template <typename M>
absl::StatusOr<Family<M>*> Registry::Add(const std::string& name, const std::string& help,
                                         const std::vector<std::string>& label_names,
                                         typename Family<M>::Factory make) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckNewFamily(name, label_names, M::kType); !s.ok()) return s;
  auto family = std::make_unique<Family<M>>(name, help, label_names, std::move(make));
  Family<M>* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

absl::StatusOr<Family<Counter>*> Registry::AddCounter(const std::string& name,
                                                      const std::string& help,
                                                      const std::vector<std::string>& label_names) {
  return Add<Counter>(name, help, label_names, [] { return std::make_unique<Counter>(); });
}

absl::StatusOr<Family<Gauge>*> Registry::AddGauge(const std::string& name, const std::string& help,
                                                  const std::vector<std::string>& label_names) {
  return Add<Gauge>(name, help, label_names, [] { return std::make_unique<Gauge>(); });
}

absl::StatusOr<Family<Histogram>*> Registry::AddHistogram(
    const std::string& name, const std::string& help, const std::vector<std::string>& label_names,
    const std::vector<double>& upper_bounds) {
  if (absl::Status s = Histogram::ValidateBounds(upper_bounds); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("histogram ", name, ": ", s.message()));
  }
  return Add<Histogram>(name, help, label_names,
                        [upper_bounds] { return std::make_unique<Histogram>(upper_bounds); });
}

std::vector<FamilySnapshot> Registry::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FamilySnapshot> out;
  out.reserve(families_.size());
  for (const auto& family : families_) out.push_back(family->Collect());
  return out;
}

}  // namespace gqa::metrics
