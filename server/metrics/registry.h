// Registry: the set of metric families one exposer serves, in registration
// order. Checks names against the Prometheus data model when a family is
// added, so a scrape can never produce text Prometheus rejects.
//
// Thread safety: all methods are thread-safe. Families live as long as the
// registry; the pointers it returns stay valid until then.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/metrics/counter.h"
#include "server/metrics/gauge.h"
#include "server/metrics/histogram.h"
#include "server/metrics/metric_family.h"
#include "server/metrics/metric_snapshot.h"

namespace gqa::metrics {

class Registry {
 public:
  // Errors (INVALID_ARGUMENT) name the offending metric or label: a name not
  // matching [a-zA-Z_:][a-zA-Z0-9_:]*, a label not matching
  // [a-zA-Z_][a-zA-Z0-9_]* or starting with "__", a repeated label, a counter
  // not ending in "_total", a histogram label "le", bad bucket bounds.
  // ALREADY_EXISTS when the name is taken.
  absl::StatusOr<Family<Counter>*> AddCounter(const std::string& name, const std::string& help,
                                              const std::vector<std::string>& label_names);
  absl::StatusOr<Family<Gauge>*> AddGauge(const std::string& name, const std::string& help,
                                          const std::vector<std::string>& label_names);
  absl::StatusOr<Family<Histogram>*> AddHistogram(const std::string& name, const std::string& help,
                                                  const std::vector<std::string>& label_names,
                                                  const std::vector<double>& upper_bounds);

  // A consistent-per-series snapshot of every family, in registration order.
  std::vector<FamilySnapshot> Collect() const;

 private:
  absl::Status CheckNewFamily(const std::string& name, const std::vector<std::string>& label_names,
                              MetricType type) const;  // requires mu_

  template <typename M>
  absl::StatusOr<Family<M>*> Add(const std::string& name, const std::string& help,
                                 const std::vector<std::string>& label_names,
                                 typename Family<M>::Factory make);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Collectable>> families_;  // guarded by mu_
};

}  // namespace gqa::metrics
