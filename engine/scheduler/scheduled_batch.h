// ScheduledBatch: the scheduler's decision for one step, and StepOutput: what
// the runner computed for it. These two are the only contract between the
// scheduler and the model runner.
#pragma once

#include <vector>

#include "engine/sampling/sequence_sampler.h"
#include "engine/scheduler/sequence.h"

namespace gqa {

struct ScheduledSequence {
  Sequence* seq;
  int num_new_tokens;  // compute token_ids()[num_computed_tokens, + num_new_tokens)
  bool sample;         // this chunk ends the known tokens: sample the next one
  bool prompt_logprobs;  // also score the prompt tokens of this chunk
};

struct ScheduledBatch {
  std::vector<ScheduledSequence> seqs;  // in batch row order
  int num_tokens = 0;                   // sum of num_new_tokens
  bool empty() const { return seqs.empty(); }
};

struct SequenceStepOutput {
  SampleResult sample;  // valid when the ScheduledSequence sampled
  // log p(token i | tokens < i) for the prompt tokens this chunk scored, in
  // order (the first prompt token has none).
  std::vector<float> prompt_logprobs;
};

struct StepOutput {
  std::vector<SequenceStepOutput> seqs;  // parallel to ScheduledBatch::seqs
};

}  // namespace gqa
