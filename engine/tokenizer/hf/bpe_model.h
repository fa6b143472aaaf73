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
// Each Encode call caches word -> ids; SentencePiece-style words (a whole
// text when there is no pre-tokenizer) are cut where no merge can cross and
// the pieces cached (split_at_metaspace_ below).
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
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
  using Vocab = std::vector<std::pair<std::string, int64_t>>;       // token -> id
  using Merges = std::vector<std::pair<std::string, std::string>>;  // by rank

  // Builds the model from tokenizer.json's "model" object (its options) and
  // its vocabulary and merges (tokenizer_json_reader.h reads them apart).
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromParts(const nlohmann::json& model,
                                                             Vocab vocab, const Merges& merges,
                                                             const std::string& where);
  // The same from a "model" object that holds "vocab" and "merges".
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromJson(const nlohmann::json& model,
                                                            const std::string& where);

  // Switches Tokenize to raw-byte words. False (nothing changes) when some
  // byte's character is missing from the vocabulary or a prefix/suffix is set.
  bool EnableByteLevelInput();
  bool byte_level_input() const { return byte_level_input_; }

  // Appends the ids of `word` (non-empty, well-formed UTF-8 unless byte-level).
  void Tokenize(std::string_view word, BpeScratch* scratch, std::vector<int>* ids) const;

  // One past the largest id of the vocabulary.
  int vocab_size() const { return static_cast<int>(id_to_string_.size()); }
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
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }

  absl::Status LoadVocab(Vocab vocab, const std::string& where);
  absl::Status LoadMerges(const Merges& merges, const std::string& where);
  // Tokenize without the ignore_merges look-up and without cutting: the
  // per-call cache, else steps 2 and 3.
  void TokenizePiece(std::string_view word, BpeScratch* scratch, std::vector<int>* ids) const;
  // Where `word` may be cut (see split_at_metaspace_): the next such byte
  // offset at or after `from`, or word.size().
  std::size_t NextMetaspaceCut(std::string_view word, std::size_t from) const;
  // Steps 2 and 3 of the header comment, into scratch->symbols.
  void InitSymbols(std::string_view word, BpeScratch* scratch) const;
  void InitByteSymbols(std::string_view word, BpeScratch* scratch) const;
  void MergeSymbols(BpeScratch* scratch) const;

  std::vector<std::string> strings_;  // the vocabulary's tokens; never resized after loading
  absl::flat_hash_map<absl::string_view, int> token_to_id_;  // views into strings_
  std::vector<int> id_to_string_;  // id -> index in strings_, -1 when the id has no token
  absl::flat_hash_map<uint64_t, Merge> merges_;

  std::optional<int> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<int, 256> byte_fallback_ids_{};  // id of "<0xHH>", -1 if absent

  // SentencePiece-style vocabularies ("▁" marks a word start): a word (often
  // a whole text, with no pre-tokenizer) may be cut before a "▁" that follows
  // a character c, c != "▁", when no merge (L, R) has R starting with "▁" and
  // L ending with c: then no token can span the cut, the merges on either
  // side never interact, and the ids are the same. The pieces are cached one
  // by one, so long texts cost about as much as pre-tokenized ones.
  bool split_at_metaspace_ = false;
  int metaspace_id_ = -1;
  absl::flat_hash_set<char32_t> joins_metaspace_;  // the characters c above that merges join

  bool byte_level_input_ = false;
  std::array<int, 256> byte_symbol_ids_{};                       // byte -> id of its character
  std::vector<std::string> raw_strings_;                         // byte-level tokens as raw bytes
  absl::flat_hash_map<absl::string_view, int> raw_token_to_id_;  // views into raw_strings_
};

}  // namespace gqa::hf
