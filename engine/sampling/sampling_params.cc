#include "engine/sampling/sampling_params.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

// Written as !(in range) so that NaN is rejected too.
absl::Status OutOfRange(const char* field, const char* range, double value) {
  return absl::InvalidArgumentError(
      absl::StrCat("sampling.", field, " must be ", range, ", got ", value));
}

}  // namespace

absl::Status SamplingParams::Validate() const {
  if (!(temperature >= 0.0f && std::isfinite(temperature))) {
    return OutOfRange("temperature", "a finite number >= 0", temperature);
  }
  if (top_k < -1) {
    return OutOfRange("top_k", ">= 0 (0 or -1: off)", top_k);
  }
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return OutOfRange("top_p", "in (0, 1]", top_p);
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    return OutOfRange("min_p", "in [0, 1]", min_p);
  }
  if (!(repetition_penalty > 0.0f && std::isfinite(repetition_penalty))) {
    return OutOfRange("repetition_penalty", "a finite number > 0", repetition_penalty);
  }
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) {
    return OutOfRange("presence_penalty", "in [-2, 2]", presence_penalty);
  }
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) {
    return OutOfRange("frequency_penalty", "in [-2, 2]", frequency_penalty);
  }
  if (top_logprobs < 0 || top_logprobs > 20) {
    return OutOfRange("top_logprobs", "in [0, 20]", top_logprobs);
  }
  return absl::OkStatus();
}

}  // namespace gqa
