// RequestRecord: what gqa-bench saw of one request, and the per-request
// latencies derived from it (the definitions follow vLLM's benchmark).
//
// Times are seconds since the benchmark's start (steady_clock).
// Thread ownership: written by the request's reactor while it runs, read by
// the dispatcher after the reactor's OnDone (ordered by the driver's mutex).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gqa::loadgen {

struct RequestRecord {
  int index = 0;                 // position in the workload
  int input_len = 0;             // prompt tokens (the server's usage when reported)
  int expected_output_len = 0;   // max_tokens asked for
  int output_len = 0;            // tokens received
  int cached_prompt_tokens = 0;  // the server's usage: prompt tokens its prefix cache held
  int conversation = -1;         // multi-turn chat (WorkItem's); -1 / 0 otherwise
  int turn = 0;
  // Multi-turn chat only (else empty): the prompt sent, and every token id
  // received in order (the next turn's prompt continues with them).
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> output_token_ids;
  double arrival_s = 0;  // scheduled arrival
  double start_s = 0;    // the call was started (>= arrival_s; later when
                         // --max-concurrency held it back)
  double end_s = 0;      // the stream's status arrived
  // One entry per streamed message that carried >= 1 token: when it arrived
  // and how many tokens it carried. Non-decreasing times.
  std::vector<double> message_times_s;
  std::vector<int> message_tokens;
  int status_code = 0;  // grpc::StatusCode; 0 = OK
  std::string status_name = "OK";
  std::string error;  // the status message of a failed request

  bool ok() const { return status_code == 0; }
  bool has_tokens() const { return !message_times_s.empty(); }
};

// Time to first token: first token-carrying message - start. Precondition: has_tokens().
double TtftSeconds(const RequestRecord& r);
// End-to-end latency: the last token-carrying message - start (as vLLM:
// the last chunk, not the trailing status); end_s - start_s without tokens.
double E2eSeconds(const RequestRecord& r);
// Time per output token after the first: (e2e - ttft) / (output_len - 1);
// 0 when output_len <= 1 (as vLLM).
double TpotSeconds(const RequestRecord& r);
// Inter-token latencies: for every message after the first, the gap since
// the previous message, spread evenly over the tokens it carried (a message
// of m tokens after a gap g gives m values g / m). Tokens that came in the
// first message get none, so the values sum to e2e - ttft.
std::vector<double> ItlSeconds(const RequestRecord& r);

}  // namespace gqa::loadgen
