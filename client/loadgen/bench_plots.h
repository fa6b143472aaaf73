// --plot FILE.svg: gqa-bench's charts, drawn with svg_chart.h.
//   one run:  CDFs of TTFT, TPOT, ITL and e2e latency (ms), and output
//             tokens/s over time (1 s buckets);
//   a sweep:  median and p99 TTFT / TPOT against the achieved request and
//             output-token throughput (one marker per rate), and the TTFT /
//             TPOT CDFs of every rate.
//
// Thread ownership: pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/loadgen/benchmark.h"
#include "client/loadgen/svg_chart.h"

namespace gqa::loadgen {

std::vector<Chart> RunCharts(const RunResult& run);
std::vector<Chart> SweepCharts(const BenchResult& result);

// RunCharts for one run, SweepCharts for several, rendered to `path`.
absl::Status WritePlot(const std::string& path, const BenchResult& result);

}  // namespace gqa::loadgen
