// Scores perplexity chunks (perplexity_chunks.h) through the serving engine:
// every chunk is one request with prompt_logprobs, so the engine batches
// several chunks per step (a ragged batch under its token budget) exactly as
// it batches users' prompts, and the numbers come from the code that serves.
//
// Thread ownership: ScoreChunks drives `engine` from the calling thread; the
// engine must be idle (no unfinished requests) and stays owned by the caller.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/cli/perplexity_chunks.h"
#include "engine/runner/llm_engine.h"

namespace gqa {

// An engine configuration for scoring chunks of `context` tokens, `parallel`
// of them at once, at most `batch_tokens` tokens per step: contexts of
// context + 1 tokens (the prompt and the one token each request must sample)
// and a KV pool of exactly `parallel` of them.
EngineConfig PerplexityEngineConfig(int context, int parallel, int batch_tokens);

// Called after each step with the chunks finished so far and their stats.
using PerplexityProgress =
    std::function<void(int chunks_done, int64_t tokens_scored, const PerplexityStats& so_far)>;

// Per-chunk stats, in `chunks` order. Each chunk's scored tokens use
// log p(tokens[i] | tokens[:i]) from the engine's prompt logprobs.
// Errors: AddRequest's (a chunk longer than the engine's context) or the
// backend's failure.
absl::StatusOr<std::vector<PerplexityStats>> ScoreChunks(
    LlmEngine& engine, const std::vector<PerplexityChunk>& chunks,
    const PerplexityProgress& progress = nullptr);

}  // namespace gqa
