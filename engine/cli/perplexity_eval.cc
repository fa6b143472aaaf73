#include "engine/cli/perplexity_eval.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace gqa {

EngineConfig PerplexityEngineConfig(int context, int parallel, int batch_tokens) {
  EngineConfig c;
  c.max_num_seqs = parallel;
  c.max_num_batched_tokens = batch_tokens;
  c.max_model_len = context + 1;
  c.num_kv_blocks = parallel * ((context + 1 + c.block_size - 1) / c.block_size);
  return c;
}

absl::StatusOr<std::vector<PerplexityStats>> ScoreChunks(LlmEngine& engine,
                                                         const std::vector<PerplexityChunk>& chunks,
                                                         const PerplexityProgress& progress) {
  if (engine.HasUnfinished()) {
    return absl::FailedPreconditionError("ScoreChunks needs an idle engine");
  }
  // logprobs[i][j] = log p(chunk i's tokens[j + 1] | tokens[..j]), as they arrive.
  std::vector<std::vector<float>> logprobs(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    GenerationRequest r;
    r.request_id = absl::StrCat(i);
    r.prompt_token_ids = chunks[i].tokens;
    r.prompt_logprobs = true;
    r.sampling.temperature = 0.0f;  // the one sampled token is thrown away
    r.stopping.max_tokens = 1;
    r.stopping.ignore_eos = true;
    GQA_RETURN_IF_ERROR(engine.AddRequest(std::move(r)));
    logprobs[i].reserve(chunks[i].tokens.size());
  }
  std::vector<PerplexityStats> stats(chunks.size());
  PerplexityStats so_far;
  int done = 0;
  while (engine.HasUnfinished()) {
    std::vector<RequestOutput> outputs = engine.Step();
    GQA_RETURN_IF_ERROR(engine.status());
    for (const RequestOutput& o : outputs) {
      size_t i = 0;
      if (!absl::SimpleAtoi(o.request_id, &i) || i >= chunks.size()) {
        return absl::InternalError("unknown request id " + o.request_id);
      }
      logprobs[i].insert(logprobs[i].end(), o.new_prompt_logprobs.begin(),
                         o.new_prompt_logprobs.end());
      if (!o.finished) continue;
      const PerplexityChunk& c = chunks[i];
      if (o.finish_reason == FinishReason::kAborted || logprobs[i].size() != c.tokens.size() - 1) {
        return absl::InternalError(absl::StrCat("chunk ", i, " got ", logprobs[i].size(),
                                                " prompt logprobs, want ", c.tokens.size() - 1));
      }
      for (size_t j = c.first_scored; j < c.tokens.size(); ++j) stats[i].Add(logprobs[i][j - 1]);
      so_far.Merge(stats[i]);
      ++done;
      std::vector<float>().swap(logprobs[i]);
    }
    if (progress) progress(done, so_far.count, so_far);
  }
  return stats;
}

}  // namespace gqa
