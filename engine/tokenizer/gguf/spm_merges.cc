#include "engine/tokenizer/gguf/spm_merges.h"

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace gqa {
namespace {

struct Candidate {
  int left;
  int right;
  float score;
};

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::vector<std::pair<std::string, std::string>> SpmMergesFromScores(
    const std::vector<std::string>& tokens, const std::vector<float>& scores) {
  // text -> id; a repeated text keeps its last id, as a Python dict does.
  absl::flat_hash_map<absl::string_view, int> ids;
  ids.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    ids.insert_or_assign(absl::string_view(tokens[i]), static_cast<int>(i));
  }
  std::vector<Candidate> merges;
  std::vector<Candidate> local;
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < tokens.size(); ++i) {
    // A repeated text is one dict entry: its last id's score, at its first position.
    if (!seen.insert(absl::string_view(tokens[i])).second) continue;
    const std::string_view piece = tokens[i];
    const float score = scores[ids.at(absl::string_view(tokens[i]))];
    local.clear();
    for (size_t cut = 1; cut < piece.size(); ++cut) {
      if (IsContinuationByte(piece[cut])) continue;
      const auto left = ids.find(absl::string_view(piece.data(), cut));
      const auto right = ids.find(absl::string_view(piece.data() + cut, piece.size() - cut));
      if (left != ids.end() && right != ids.end()) {
        local.push_back({left->second, right->second, score});
      }
    }
    std::sort(local.begin(), local.end(), [](const Candidate& a, const Candidate& b) {
      return a.left != b.left ? a.left < b.left : a.right < b.right;
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (const Candidate& m : merges) out.emplace_back(tokens[m.left], tokens[m.right]);
  return out;
}

}  // namespace gqa
