// Perplexity chunking, as llama.cpp's llama-perplexity does it, so the
// numbers of the two tools are comparable (tools/perplexity/perplexity.cpp):
//
//   default (stride 0): the text's tokens (BOS first when the tokenizer adds
//     one) are cut into floor(n / context) non-overlapping chunks of `context`
//     tokens; a chunk's first token is replaced by BOS when the tokenizer adds
//     one; each chunk scores its second half only: tokens [context/2 + 1,
//     context), i.e. context - context/2 - 1 tokens, each predicted from the
//     chunk's tokens before it. Needs n >= 2 * context.
//   stride S (llama.cpp --ppl-stride): windows of `context` tokens start every
//     S tokens (ceil((n - context) / S) of them); each scores its last S
//     tokens, [context - S, context). No BOS substitution (llama.cpp's v2 loop
//     puts BOS in only after the window is evaluated). Needs 0 < S < context.
//
// Perplexity = exp(mean NLL over every scored token); the error estimate is
// llama.cpp's: ppl * sqrt(var(NLL) / (count - 1)).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa {

struct PerplexityPlanOptions {
  int context = 512;   // tokens per chunk (llama.cpp -c)
  int stride = 0;      // 0: non-overlapping chunks; > 0: sliding windows (--ppl-stride)
  int max_chunks = 0;  // 0: every chunk the text holds (llama.cpp --chunks)
  int bos_id = -1;     // >= 0: the tokenizer adds BOS; each chunk starts with it (stride 0)
};

struct PerplexityChunk {
  int64_t offset = 0;           // of tokens[0] in the text's tokens
  std::vector<int32_t> tokens;  // [context] the window, BOS-substituted
  int first_scored = 0;         // tokens[first_scored..] are scored; >= 1
  int num_scored() const { return static_cast<int>(tokens.size()) - first_scored; }
};

// INVALID_ARGUMENT naming the flag for a bad context/stride or a text too
// short for two chunks (llama.cpp's rule).
absl::StatusOr<std::vector<PerplexityChunk>> PlanPerplexityChunks(
    const std::vector<int32_t>& tokens, const PerplexityPlanOptions& options);

// Running sums over scored tokens (double, in chunk order: deterministic).
struct PerplexityStats {
  double nll = 0;   // sum of -log p
  double nll2 = 0;  // sum of (log p)^2
  int64_t count = 0;

  void Add(double logprob) {
    nll -= logprob;
    nll2 += logprob * logprob;
    ++count;
  }
  void Merge(const PerplexityStats& o) {
    nll += o.nll;
    nll2 += o.nll2;
    count += o.count;
  }
  double MeanNll() const { return count ? nll / count : 0; }
  double Perplexity() const;       // exp(mean NLL); 0 with no tokens
  double PerplexityError() const;  // llama.cpp's +/-; 0 with fewer than 2 tokens
};

}  // namespace gqa
