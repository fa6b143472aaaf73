// AddedVocabulary: tokenizer.json "added_tokens", matched in the text before
// the model runs (HF's AddedVocabulary::extract_and_normalize):
//   1. tokens with normalized=false are found in the raw text;
//   2. each stretch between them is normalized, and tokens with
//      normalized=true (their content normalized too) are found in it.
// Matching is leftmost-longest and non-overlapping (HF's Aho-Corasick with
// MatchKind::LeftmostLongest). Then, per match (flags of the token that owns
// the matched id):
//   single_word: dropped unless no word character (Rust regex \w) touches it
//                on either side;
//   lstrip / rstrip: swallows the White_Space characters before / after it
//                (never those of an earlier match).
// Ids are HF's, not the file's "id" fields: a token whose content is in the
// model vocabulary takes that id; any other takes the next free id after the
// added ones (at least the model's entry count), in file order. A normalized
// token decodes as its normalized content (decode_form), as in HF.
//
// Thread ownership: immutable after construction; FindMatches is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

class BpeModel;
class Normalizer;

struct AddedToken {
  int id = 0;
  std::string content;
  // The token's string for decoding: `content`, normalized when `normalized`
  // (HF's normalized_cache; what its decoder and id_to_token see).
  std::string decode_form;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A stretch of text: an added token (id >= 0) or text for the model (id -1).
struct AddedSplit {
  std::size_t begin;
  std::size_t end;
  int id;
};

class AddedVocabulary {
 public:
  // Parses tokenizer.json "added_tokens"; `normalizer` (may be null) gives the
  // matching form of normalized tokens; `model` assigns ids.
  static absl::StatusOr<AddedVocabulary> FromJson(const nlohmann::json& added_tokens,
                                                  const Normalizer* normalizer,
                                                  const BpeModel& model, const std::string& where);
  AddedVocabulary() = default;

  // Splits `text` (well-formed UTF-8) at the tokens of one set (normalized or
  // not) into stretches covering it; appends them to `out`. Empty text gives
  // one empty stretch, as in HF.
  void FindMatches(std::string_view text, bool normalized_set, std::vector<AddedSplit>* out) const;

  bool has_normalized_tokens() const { return !normalized_.patterns.empty(); }
  // One token per id (the last one the file gave that id).
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  // Whether `content` is the content of a special token (HF decides
  // skip_special_tokens by the token string).
  bool IsSpecialContent(std::string_view content) const;
  // The added token with this id, or nullptr.
  const AddedToken* FindById(int id) const;
  std::optional<int> FindByContent(std::string_view content) const;

 private:
  // A byte trie over one set's patterns for leftmost-longest search.
  struct Matcher {
    std::vector<std::string> patterns;
    std::vector<int> ids;                      // pattern -> token id
    absl::flat_hash_map<uint64_t, int> edges;  // (node << 8 | byte) -> child node
    std::vector<int> terminal;                 // node -> pattern index, -1 if none
    std::vector<bool> first_byte;              // bytes that start some pattern
    void Add(std::string pattern, int id);
    // Longest pattern starting at text[pos]: its index, or -1.
    int LongestAt(std::string_view text, std::size_t pos, std::size_t* length) const;
  };

  std::vector<AddedToken> tokens_;
  absl::flat_hash_map<int, int> by_id_;               // id -> index in tokens_
  absl::flat_hash_map<std::string, int> by_content_;  // content -> id
  absl::flat_hash_set<std::string> special_contents_;
  Matcher raw_;         // normalized=false tokens
  Matcher normalized_;  // normalized=true tokens, normalized content
};

}  // namespace gqa::hf
