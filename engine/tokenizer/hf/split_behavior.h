// How a pre-tokenizer cuts a piece around pattern matches (HF's
// SplitDelimiterBehavior). With the piece "a-b" and matches on "-":
//   Removed            "a" "b"        Isolated           "a" "-" "b"
//   MergedWithPrevious "a-" "b"       MergedWithNext     "a" "-b"
//   Contiguous: like Isolated, but adjacent matches form one piece.
// Only the first of several adjacent matches merges with its neighbour.
//
// Thread ownership: free functions, no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/tokenizer/hf/pre_tokenizers.h"
#include "engine/tokenizer/hf/regex.h"

namespace gqa::hf {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

absl::StatusOr<SplitBehavior> ParseSplitBehavior(std::string_view name, const std::string& where);

// Appends to `out` the non-empty pieces `piece` is cut into. `matches` are
// ascending, non-overlapping byte spans relative to piece.begin; with
// `invert`, the stretches between matches count as the matches.
void CutPiece(const PreToken& piece, const std::vector<Regex::Span>& matches,
              SplitBehavior behavior, bool invert, std::vector<PreToken>* out);

}  // namespace gqa::hf
