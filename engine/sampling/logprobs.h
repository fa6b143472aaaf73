// Log-probabilities of tokens under a logits vector: log_softmax without materializing it.
// Used for the logprob of each sampled token, its top alternatives, and prompt logprobs
// (scoring a text). All functions are pure; any thread.
//
// Numerics: the max logit is subtracted before exp and the sum is accumulated in double,
// so a 128k vocabulary with logits of any magnitude gives full float precision.
#pragma once

#include <span>
#include <vector>

namespace gqa {

struct TokenLogprob {
  int token_id = 0;
  float logprob = 0.0f;  // natural log, <= 0
  bool operator==(const TokenLogprob&) const = default;
};

// log(sum_i exp(logits[i])). -inf for an empty span or all -inf; +inf if any logit is +inf;
// NaN if any logit is NaN (a broken model output is reported, not hidden).
double LogSumExp(std::span<const float> logits);
// Same, with max_logit = the max of logits already known. Precondition: no NaN in logits.
double LogSumExp(std::span<const float> logits, float max_logit);

// log_softmax(logits)[token]. -inf when token is outside [0, logits.size()): a token the
// model cannot produce has probability 0.
float LogSoftmaxAt(std::span<const float> logits, int token);
// Same, with log_sum_exp = LogSumExp(logits) already computed (saves a pass over the vocab).
float LogSoftmaxAt(std::span<const float> logits, int token, double log_sum_exp);

// The min(n, vocab) most likely tokens, most likely first; ties go to the lower token id.
// NaN logits are never listed. n <= 0 gives an empty vector. One pass keeping a small
// sorted list; blocks of 16 with nothing above the current n-th best are skipped with one
// vectorized test, so it costs about one max pass.
std::vector<TokenLogprob> TopLogprobs(std::span<const float> logits, int n);
std::vector<TokenLogprob> TopLogprobs(std::span<const float> logits, int n, double log_sum_exp);

}  // namespace gqa
