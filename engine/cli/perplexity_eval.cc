#include "engine/cli/perplexity_eval.h"

#include <algorithm>
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
  // Requests are added as earlier ones finish, two steps' worth ahead, so the
  // waiting queue stays short whatever the text's length (the engine bounds it).
  const size_t max_in_flight = 2 * static_cast<size_t>(std::max(1, engine.config().max_num_seqs));
  size_t next = 0, in_flight = 0;
  auto add = [&](size_t i) {
    GenerationRequest r;
    r.request_id = absl::StrCat(i);
    r.prompt_token_ids = chunks[i].tokens;
    r.prompt_logprobs = true;
    r.sampling.temperature = 0.0f;  // the one sampled token is thrown away
    r.stopping.max_tokens = 1;
    r.stopping.ignore_eos = true;
    logprobs[i].reserve(chunks[i].tokens.size());
    return engine.AddRequest(std::move(r));
  };
  std::vector<PerplexityStats> stats(chunks.size());
  PerplexityStats so_far;
  int done = 0;
  while (next < chunks.size() || engine.HasUnfinished()) {
    for (; next < chunks.size() && in_flight < max_in_flight; ++next, ++in_flight) {
      GQA_RETURN_IF_ERROR(add(next));
    }
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
      --in_flight;
      const PerplexityChunk& c = chunks[i];
      if (o.finish_reason != FinishReason::kLength || logprobs[i].size() != c.tokens.size() - 1) {
        return absl::InternalError(absl::StrCat("chunk ", i, " ended with ", logprobs[i].size(),
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
