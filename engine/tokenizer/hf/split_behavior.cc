#include "engine/tokenizer/hf/split_behavior.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gqa::hf {
namespace {

struct Segment {
  std::size_t begin, end;  // relative to the piece
  bool is_match;
};

}  // namespace

absl::StatusOr<SplitBehavior> ParseSplitBehavior(std::string_view name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return absl::InvalidArgumentError(
      absl::StrCat(where, ".behavior: unknown split behavior \"", std::string(name), "\""));
}

void CutPiece(const PreToken& piece, const std::vector<Regex::Span>& matches,
              SplitBehavior behavior, bool invert, std::vector<PreToken>* out) {
  const std::size_t n = piece.end - piece.begin;
  // The piece as alternating stretches: gaps (false) and matches (true).
  thread_local std::vector<Segment> segments;
  segments.clear();
  std::size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) segments.push_back({prev, begin, invert});
    segments.push_back({begin, end, !invert});
    prev = end;
  }
  if (prev != n || n == 0) segments.push_back({prev, n, invert});

  thread_local std::vector<Segment> cut;
  cut.clear();
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Segment& s : segments) {
        if (!s.is_match) cut.push_back(s);
      }
      break;
    case SplitBehavior::kIsolated:
      cut = segments;
      break;
    case SplitBehavior::kContiguous:
      for (const Segment& s : segments) {
        if (s.is_match == previous_match && !cut.empty()) {
          cut.back().end = s.end;
        } else {
          cut.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Segment& s : segments) {
        if (s.is_match && !previous_match && !cut.empty()) {
          cut.back().end = s.end;
        } else {
          cut.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->is_match && !previous_match && !cut.empty()) {
          cut.back().begin = it->begin;
        } else {
          cut.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(cut.begin(), cut.end());
      break;
  }
  for (const Segment& s : cut) {
    if (s.begin == s.end) continue;
    out->push_back(
        {piece.begin + s.begin, piece.begin + s.end, piece.at_text_start && s.begin == 0});
  }
}

}  // namespace gqa::hf
