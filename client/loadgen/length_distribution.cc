#include "client/loadgen/length_distribution.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace gqa::loadgen {

absl::StatusOr<LengthDist> ParseLengthDist(const std::string& flag, const std::string& text) {
  if (text == "fixed") return LengthDist::kFixed;
  if (text == "uniform") return LengthDist::kUniform;
  if (text == "sharegpt") return LengthDist::kShareGpt;
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": '", text, "' is not fixed, uniform or sharegpt"));
}

const char* LengthDistName(LengthDist dist) {
  switch (dist) {
    case LengthDist::kFixed:
      return "fixed";
    case LengthDist::kUniform:
      return "uniform";
    case LengthDist::kShareGpt:
      return "sharegpt";
  }
  return "fixed";
}

absl::Status ValidateLengthSpec(const std::string& flag, const LengthSpec& spec) {
  if (spec.mean < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be >= 1, got ", spec.mean));
  }
  if (!(spec.range_ratio >= 0 && spec.range_ratio < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--range-ratio must be in [0, 1), got ", spec.range_ratio));
  }
  if (!(spec.sigma > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": sigma must be > 0"));
  }
  return absl::OkStatus();
}

int SampleLength(const LengthSpec& spec, std::mt19937_64& rng) {
  switch (spec.dist) {
    case LengthDist::kFixed:
      return std::max(1, spec.mean);
    case LengthDist::kUniform: {
      // As vLLM's random dataset: int() truncation of both bounds, inclusive.
      const int lo = std::max(1, static_cast<int>(spec.mean * (1 - spec.range_ratio)));
      const int hi = std::max(lo, static_cast<int>(spec.mean * (1 + spec.range_ratio)));
      return std::uniform_int_distribution<int>(lo, hi)(rng);
    }
    case LengthDist::kShareGpt: {
      const double mu = std::log(static_cast<double>(spec.mean)) - spec.sigma * spec.sigma / 2;
      const double x = std::lognormal_distribution<double>(mu, spec.sigma)(rng);
      // Guard the cast: a far tail sample may exceed int's range.
      return static_cast<int>(std::clamp(std::round(x), 1.0, 1e9));
    }
  }
  return 1;
}

void ClipToContext(int max_total_len, int* input_len, int* output_len) {
  *input_len = std::clamp(*input_len, 1, std::max(1, max_total_len - 1));
  *output_len = std::clamp(*output_len, 1, std::max(1, max_total_len - *input_len));
}

}  // namespace gqa::loadgen
