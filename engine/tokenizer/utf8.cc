#include "engine/tokenizer/utf8.h"

#include <cstdint>

namespace gqa {
namespace {

enum class StepKind { kValid, kInvalid, kIncomplete };

struct Step {
  std::size_t length;  // bytes consumed; for kInvalid, the maximal subpart
  StepKind kind;
};

// Decodes one step at bytes[i] (i < size) by Unicode Table 3-7. An ill-formed
// subpart never swallows the byte that broke it: that byte starts the next step.
Step NextStep(std::string_view bytes, std::size_t i) {
  const auto b0 = static_cast<uint8_t>(bytes[i]);
  if (b0 < 0x80) return {1, StepKind::kValid};
  std::size_t need;              // continuation bytes after the lead
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the FIRST continuation byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, StepKind::kInvalid};  // 80..C1 (continuation, overlong lead), F5..FF
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (i + k >= bytes.size()) return {k, StepKind::kIncomplete};
    const auto b = static_cast<uint8_t>(bytes[i + k]);
    if (b < lo || b > hi) return {k, StepKind::kInvalid};
    lo = 0x80;
    hi = 0xBF;
  }
  return {need + 1, StepKind::kValid};
}

}  // namespace

std::size_t Utf8IncompleteTailLength(std::string_view bytes) {
  // An incomplete tail starts at a lead byte (>= 0xC0) among the last 3 bytes,
  // followed by continuation bytes only. A lead byte is never a continuation
  // byte, so it always starts a step of its own: no need to scan from the start.
  const std::size_t n = bytes.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const std::size_t j = n - back;
    const auto b = static_cast<uint8_t>(bytes[j]);
    if (b < 0x80) return 0;
    if (b >= 0xC0) {
      const Step step = NextStep(bytes, j);
      return step.kind == StepKind::kIncomplete ? back : 0;
    }
  }
  return 0;
}

std::string Utf8ReplaceInvalid(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const Step step = NextStep(bytes, i);
    if (step.kind == StepKind::kValid) {
      out.append(bytes.substr(i, step.length));
    } else {
      out.append(kUtf8ReplacementChar);
    }
    i += step.length;
  }
  return out;
}

bool IsWellFormedUtf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const Step step = NextStep(bytes, i);
    if (step.kind != StepKind::kValid) return false;
    i += step.length;
  }
  return true;
}

}  // namespace gqa
