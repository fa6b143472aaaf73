// SchedulerOutput: the scheduler's plan for one step, and ModelOutput: what
// the runner computed for it. Plain data (ids, tokens, positions, block
// tables, sampling parameters), as vLLM v1's SchedulerOutput: the runner never
// sees a Sequence, so the host work of step N+1 could later overlap the
// device's step N. These two are the only contract between the scheduler and
// the model runner.
//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/sampling/sampling_params.h"
#include "engine/scheduler/request.h"

namespace gqa {

// A request scheduled for the first time: the runner sets up its sampler
// (parameters, prompt for the repetition penalty, random stream). A request
// recomputed after preemption is not new: its sampler lives on.
struct NewRequestData {
  std::string request_id;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams sampling;
  uint64_t fallback_seed = 0;  // the sampler's seed when sampling.seed is unset
};

// One request's rows of the ragged batch.
struct ScheduledRequest {
  std::string request_id;
  int start_position = 0;            // tokens with K/V in the cache before this step
  std::vector<int32_t> token_ids;    // the tokens to compute, positions [start, start + size)
  std::vector<int32_t> block_table;  // KV blocks covering start + size tokens
  bool sample = false;               // this chunk ends the known tokens: sample the next one
  // Prompt tokens scored by this chunk's rows: row prompt_logprob_row + i
  // predicts prompt_logprob_targets[i] (the prompt token at start_position +
  // prompt_logprob_row + i + 1). Empty unless the request asked for prompt
  // logprobs; rows before prompt_logprob_row were scored before a preemption.
  std::vector<int32_t> prompt_logprob_targets;
  int prompt_logprob_row = 0;
  int num_new_tokens() const { return static_cast<int>(token_ids.size()); }
};

struct SchedulerOutput {
  std::vector<NewRequestData> new_requests;
  std::vector<ScheduledRequest> requests;  // in batch row order
  // Requests that finished or were aborted since the last plan: the runner
  // drops their sampler state.
  std::vector<std::string> finished_request_ids;
  int num_tokens = 0;       // sum of num_new_tokens
  int num_preemptions = 0;  // sequences preempted while making this plan
  // Prefix cache, in tokens, over the requests scheduled for the first time
  // in this plan (as vLLM counts): prompt tokens looked up, and found cached.
  int num_prefix_cache_queries = 0;
  int num_prefix_cache_hits = 0;
  bool empty() const { return requests.empty(); }
};

struct RequestModelOutput {
  TokenOutput sample;  // valid when the ScheduledRequest sampled
  // log p(token i | tokens < i) for prompt_logprob_targets, in order.
  std::vector<float> prompt_logprobs;
};

struct ModelOutput {
  std::vector<RequestModelOutput> requests;  // parallel to SchedulerOutput::requests
};

}  // namespace gqa
