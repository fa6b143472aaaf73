// --result-json: everything gqa-bench knows about a benchmark as one JSON
// document, for scripts and for comparing runs later.
//
//   {"tool": "gqa-bench", "config": {...flags...}, "model_info": {...},
//    "runs": [{"request_rate": 4 | "inf", "completed": ..., "ttft_ms": {...},
//              ..., "requests": [{"input_len", "output_len", "ttft_ms",
//              "e2el_ms", "itl_ms": [...], "status", ...}, ...]}, ...]}
//
// One entry in "runs" per request rate (one for a single run). Latencies in
// ms, durations and times in s, throughputs per s; a rate of +inf is "inf".
//
// Thread ownership: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "client/loadgen/benchmark.h"

namespace gqa::loadgen {

nlohmann::json ConfigToJson(const BenchOptions& options);
// Every field of the message, by its proto name, numbers as numbers.
nlohmann::json ModelInfoToJson(const v1::ModelInfo& info);
nlohmann::json RunToJson(const RunResult& run);
nlohmann::json BenchResultToJson(const BenchOptions& options, const BenchResult& result);

// Writes `json` (indented) to `path`; an error names the file.
absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& json);

}  // namespace gqa::loadgen
