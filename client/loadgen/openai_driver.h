// gqa-bench --backend openai: sends a workload to an OpenAI-compatible
// server (gqa-server's --http-port; vLLM, llama.cpp's server, ... as well)
// as streaming /v1/completions (chat items: /v1/chat/completions) requests
// over cpp-httplib's blocking client, and records every SSE chunk's arrival
// into the RequestRecords the gRPC driver fills (openai_stream.h), so both
// backends give the same metrics under the same workload and arrivals.
//
//   RunOpenAiStreams(target, items, options, on_progress)
//     caller's thread = the dispatcher: sleeps until each item's arrival
//     time, waits for a free slot under max_concurrency, then starts one
//     thread for the request (cpp-httplib's client blocks); waits for every
//     request to end and joins their threads. Calls on_progress a few times
//     a second.
//   request threads: own their request's record and recorder; take the
//     driver's mutex only to free their slot at the end.
//
// One client thread per request in flight: at hundreds of streams the
// client's threads share the machine's cores with a local server.
// Multi-turn chat workloads (WorkItem::previous_turn) are gRPC only.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/loadgen/stream_driver.h"
#include "client/loadgen/workload.h"

namespace gqa::loadgen {

struct OpenAiTarget {
  std::string base_url;  // "http://HOST:PORT", no trailing path
  std::string model;     // the "model" field; "" = none
};

// GET base_url/v1/models: the first model's id. UNAVAILABLE when the server
// cannot be reached, INTERNAL for an answer without a model.
absl::StatusOr<std::string> FetchOpenAiModelId(const std::string& base_url, double timeout_s);

// Blocks until every request has ended; a failed request is recorded with
// its status (openai_stream.h's mapping), never an error. FAILED_PRECONDITION
// for a multi-turn workload, INVALID_ARGUMENT for an item the OpenAI API
// cannot express, before anything is sent.
absl::StatusOr<DriverResult> RunOpenAiStreams(const OpenAiTarget& target,
                                              const std::vector<WorkItem>& items,
                                              const DriverOptions& options,
                                              const ProgressFn& on_progress = nullptr);

}  // namespace gqa::loadgen
