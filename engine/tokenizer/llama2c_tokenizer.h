// Llama2cTokenizer: the llama2.c tokenizer.bin vocabulary and its encoder.
//
// File format (little-endian): int32 max_token_length, then per token:
// float32 score, int32 len, len bytes of the piece. The vocabulary size is not
// stored. Ids 0, 1, 2 are <unk>, BOS, EOS; ids 3..258 are the byte tokens
// "<0x00>".."<0xFF>" (pieces use ' ' where SentencePiece has U+2581).
//
// Encode reproduces llama2.c run.c `encode` token for token:
//   1. BOS (id 1) when add_special_tokens; then, for non-empty text, the
//      dummy-prefix token (the piece " ").
//   2. The text is cut into units as run.c's byte loop cuts it: a unit starts
//      at a byte that is not a continuation byte (10xxxxxx) and takes the
//      continuation bytes that follow, up to 4 bytes in all; a 5th continuation
//      byte starts a unit of its own. So "a\x80" is ONE unit, a lone "\x80"
//      after a complete unit is one unit, and "\xff\xfe" is two. This is not
//      UTF-8 validation: it is run.c's grouping, invalid input included.
//      A unit found in the vocabulary becomes that token, otherwise each of its
//      bytes becomes byte token (byte + 3) ("byte fallback").
//   3. Repeatedly merge the adjacent pair whose concatenated pieces are a
//      vocabulary entry of the highest score, the leftmost such pair on ties,
//      and only when that score is > -1e10 (run.c's initial best_score). BOS
//      takes part in pair lookup exactly as in run.c (it never merges with the
//      real vocabularies). Same result as run.c's O(n^2) rescan, in O(n log n).
// Where run.c has no defined behaviour we choose: a NUL byte is an ordinary
// byte (run.c's C string would end there); a piece missing from the vocabulary
// for the dummy prefix falls back to byte 0x20; a byte-fallback id beyond the
// vocabulary becomes <unk> (0); duplicate pieces resolve to the lowest id.
//
// Decode concatenates pieces; a piece of the exact form "<0xHH>" is that raw
// byte; a piece right after BOS (id 1) loses its leading ' ' (run.c `decode`,
// SentencePiece's dummy-prefix removal). BOS/EOS are dropped when
// skip_special_tokens, but BOS still strips the next piece's space. Ids outside
// the vocabulary decode to nothing.
//
// Thread ownership: immutable after Load; all methods are const and thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/tokenizer/tokenizer.h"

namespace gqa {

class Llama2cTokenizer final : public Tokenizer {
 public:
  static constexpr int kUnkId = 0;
  static constexpr int kBosId = 1;
  static constexpr int kEosId = 2;
  static constexpr int kFirstByteId = 3;  // ids 3..258 are bytes 0x00..0xFF

  // Reads `path`. vocab_size > 0: read exactly that many tokens (trailing bytes
  // are ignored, as run.c does); 0: read tokens until the file ends, which must
  // be exactly at a token boundary. Errors name the file and the token index.
  static absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Load(const std::string& path,
                                                                int vocab_size = 0);
  // The same from the file's contents (a fuzzer or test calls this); `name`
  // stands for the path in errors.
  static absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> FromBytes(std::string_view data,
                                                                     const std::string& name,
                                                                     int vocab_size = 0);

  int vocab_size() const override { return static_cast<int>(pieces_.size()); }
  int bos_id() const override { return kBosId; }
  std::vector<int> eos_ids() const override { return {kEosId}; }

  std::vector<int> Encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string Decode(std::span<const int> ids, bool skip_special_tokens = true) const override;
  // The raw piece, e.g. " Hello", "<0x0A>", "\n<s>\n"; "" for an invalid id.
  std::string TokenString(int id) const override;

  float score(int id) const { return scores_[id]; }  // precondition: 0 <= id < vocab_size
  int max_token_length() const { return max_token_length_; }

 private:
  // Transparent hashing: look pieces up by string_view without copies.
  struct PieceHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Llama2cTokenizer() = default;
  int LookUp(std::string_view piece) const;  // -1 when absent
  int ByteTokenId(unsigned char byte) const;
  void AppendUnitTokens(std::string_view unit, std::vector<int>& tokens) const;
  void MergePairs(std::vector<int>& tokens) const;

  int max_token_length_ = 0;
  std::vector<std::string> pieces_;          // [vocab_size], raw file entries
  std::vector<float> scores_;                // [vocab_size]
  std::vector<std::string> decoded_pieces_;  // [vocab_size], "<0xHH>" replaced by the byte
  std::unordered_map<std::string, int, PieceHash, std::equal_to<>> ids_by_piece_;
};

}  // namespace gqa
