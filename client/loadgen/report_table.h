// The human-readable summary gqa-bench prints on stdout, laid out like
// vLLM's "Serving Benchmark Result" table; and one row per rate for sweeps.
//
// Thread ownership: pure functions.
#pragma once

#include <ostream>

#include "client/loadgen/benchmark.h"

namespace gqa::loadgen {

// One run: counts, throughputs, and TTFT / TPOT / ITL / e2e latency in ms.
void PrintRunTable(const RunResult& run, int max_concurrency, std::ostream& out);

// A sweep: one line per rate (achieved throughput, median and p99 latencies).
void PrintSweepTable(const BenchResult& result, std::ostream& out);

}  // namespace gqa::loadgen
