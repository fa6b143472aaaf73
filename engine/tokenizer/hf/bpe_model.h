// BpeModel: the "model" of an HF tokenizer.json with type "BPE". Turns one
// pre-tokenized word into token ids exactly as HF tokenizers' BPE does:
//   1. ignore_merges: a word that is itself in the vocabulary is one token.
//   2. The word's characters become symbols (continuing_subword_prefix on
//      all but the first, end_of_word_suffix on the last); a character not in
//      the vocabulary becomes its byte tokens "<0xHH>" (byte_fallback, when all
//      exist), else unk_token (adjacent unknowns fused with fuse_unk), else
//      nothing.
//   3. Merges: repeatedly apply the adjacent pair of lowest merge rank, the
//      leftmost on ties (HF's priority queue of (rank, position)).
// Merge ranks are looked up by the pair of ids (one 64-bit key), not strings.
//
// Byte-level input: for byte-level BPE (GPT-2, Llama 3, Qwen) every word is
// bytes spelled with the byte-level alphabet (byte_level.h). After
// EnableByteLevelInput, Tokenize takes the raw bytes instead and maps each
// byte straight to its symbol id: same ids, no per-character hash look-ups.
//
// Thread ownership: immutable after loading; Tokenize is thread-safe given a
// BpeScratch per thread (a scratch holds one Encode call's word cache).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

// Per-call working memory: reused buffers and a cache word -> ids (so each
// distinct word of a text is merged once).
struct BpeScratch {
  struct Symbol {
    int id;
    int prev;  // index of the previous live symbol, -1 at the start
    int next;  // index of the next live symbol, -1 at the end
    bool live;
  };
  struct Candidate {
    uint32_t rank;
    int pos;
    int new_id;
  };
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::string buffer;
  // word -> [offset, offset + count) in cached_ids.
  absl::flat_hash_map<std::string, std::pair<uint32_t, uint32_t>> cache;
  std::vector<int> cached_ids;
};

class BpeModel {
 public:
  // Builds the model from tokenizer.json's "model" object.
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromJson(const nlohmann::json& model,
                                                            const std::string& where);

  // Switches Tokenize to raw-byte words. False (nothing changes) when some
  // byte's character is missing from the vocabulary or a prefix/suffix is set.
  bool EnableByteLevelInput();
  bool byte_level_input() const { return byte_level_input_; }

  // Appends the ids of `word` (non-empty, well-formed UTF-8 unless byte-level).
  void Tokenize(std::string_view word, BpeScratch* scratch, std::vector<int>* ids) const;

  // One past the largest id of the vocabulary.
  int vocab_size() const { return static_cast<int>(id_to_token_.size()); }
  // The number of vocabulary entries (HF's get_vocab_size).
  int vocab_entries() const { return static_cast<int>(token_to_id_.size()); }
  // The vocabulary entry of `id`, or nullptr when the vocabulary has none.
  const std::string* IdToToken(int id) const;
  std::optional<int> TokenToId(std::string_view token) const;

 private:
  struct Merge {
    uint32_t rank;
    int new_id;
  };
  static uint64_t PairKey(int left, int right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  absl::Status LoadVocab(const nlohmann::json& vocab, const std::string& where);
  absl::Status LoadMerges(const nlohmann::json& merges, const std::string& where);
  // Steps 2 and 3 of the header comment, into scratch->symbols.
  void InitSymbols(std::string_view word, BpeScratch* scratch) const;
  void InitByteSymbols(std::string_view word, BpeScratch* scratch) const;
  void MergeSymbols(BpeScratch* scratch) const;

  absl::flat_hash_map<std::string, int> token_to_id_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_token_;  // id_to_token_[id] is a vocabulary entry
  absl::flat_hash_map<uint64_t, Merge> merges_;

  std::optional<int> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<int, 256> byte_fallback_ids_{};  // id of "<0xHH>", -1 if absent

  bool byte_level_input_ = false;
  std::array<int, 256> byte_symbol_ids_{};                 // byte -> id of its character
  absl::flat_hash_map<std::string, int> raw_token_to_id_;  // raw bytes -> id (ignore_merges)
};

}  // namespace gqa::hf
