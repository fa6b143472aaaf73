// Prompt and output lengths (in tokens) of the synthetic "random" dataset:
// fixed, uniform around a mean, or a log-normal stand-in for ShareGPT.
//
// Thread ownership: pure functions over the caller's random engine.
#pragma once

#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gqa::loadgen {

enum class LengthDist {
  kFixed,     // always `mean`
  kUniform,   // integers in [mean * (1 - r), mean * (1 + r)] (truncated), at least 1
  kShareGpt,  // log-normal with the given mean, see below
};

// ShareGPT stand-in. Real ShareGPT conversation lengths are right-skewed with
// long tails (the vLLM paper, Kwon et al. 2023, Fig. 11, reports means of
// ~161 prompt and ~338 output tokens). We draw from a log-normal with
// mu = ln(mean) - sigma^2 / 2, so its mean is exactly --input-len /
// --output-len, and median = mean * exp(-sigma^2 / 2) (0.61 x mean for
// inputs, 0.73 x mean for outputs). The sigmas are our choice, picked to give
// ShareGPT-like skew; this is an approximation, not a fit to the data set.
// Samples are rounded, then clipped to [1, context] (which lowers the mean a
// little when the tail is cut).
inline constexpr double kShareGptInputSigma = 1.0;
inline constexpr double kShareGptOutputSigma = 0.8;

struct LengthSpec {
  LengthDist dist = LengthDist::kFixed;
  int mean = 128;                      // tokens; >= 1
  double range_ratio = 0;              // kUniform: r in [0, 1)
  double sigma = kShareGptInputSigma;  // kShareGpt: sigma of ln(length)
};

// "fixed" | "uniform" | "sharegpt"; INVALID_ARGUMENT names `flag`.
absl::StatusOr<LengthDist> ParseLengthDist(const std::string& flag, const std::string& text);
const char* LengthDistName(LengthDist dist);

// mean >= 1, range_ratio in [0, 1), sigma > 0; errors name `flag`.
absl::Status ValidateLengthSpec(const std::string& flag, const LengthSpec& spec);

// One length >= 1 (not yet clipped to the model's context).
int SampleLength(const LengthSpec& spec, std::mt19937_64& rng);

// Fits one request into `max_total_len` tokens (prompt + output): the prompt
// is clipped to [1, max_total_len - 1] first, then the output to
// [1, max_total_len - prompt]. Precondition: max_total_len >= 2.
void ClipToContext(int max_total_len, int* input_len, int* output_len);

}  // namespace gqa::loadgen
