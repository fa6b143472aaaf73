// gqa-bench's library entry point: asks the server what it serves, builds
// the workload, runs it once per request rate, then prints the table and
// writes the JSON file. main() and the tests call it the same way.
//
//   RunBenchCommand(argc, argv, out, err)      the whole program
//   RunBenchmark(options, err)                 the runs only (for tests)
//
// Thread ownership: the caller's thread is the dispatcher of every run;
// gRPC's threads run the stream reactions (see stream_driver.h).
#pragma once

#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "client/loadgen/bench_metrics.h"
#include "client/loadgen/bench_options.h"
#include "client/loadgen/request_record.h"
#include "gqa/v1/generation.pb.h"

namespace gqa::loadgen {

struct RunResult {
  double request_rate = 0;  // requests/s as configured; inf = all at once
  BenchmarkMetrics metrics;
  std::vector<RequestRecord> records;  // in workload order
};

struct BenchResult {
  v1::ModelInfo model_info;
  std::vector<RunResult> runs;  // one per --request-rate(s) entry, in the order given
};

// Runs the benchmark against options.server. Progress goes to `err` unless
// options.progress is false (`err_is_tty`: redraw one line in place).
// UNAVAILABLE / DEADLINE_EXCEEDED when the server cannot be reached;
// INVALID_ARGUMENT / NOT_FOUND for a bad dataset. Failed requests are
// counted in the metrics, never an error.
absl::StatusOr<BenchResult> RunBenchmark(const BenchOptions& options, std::ostream& err,
                                         bool err_is_tty = false);

// The summary table(s) on `out`; the --result-json file (client/loadgen/plot_bench.py
// draws its charts).
absl::Status WriteBenchOutputs(const BenchOptions& options, const BenchResult& result,
                               std::ostream& out);

// The program: parse flags, run, write outputs. Exit code: 0 done (even with
// failed requests), 1 the benchmark could not run, 2 bad flags.
int RunBenchCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                    bool err_is_tty = false);

}  // namespace gqa::loadgen
