// ByteTokenizer: the demo model's byte-level vocabulary, no file needed.
//
// 259 ids: 0 <unk>, 1 <s> (BOS), 2 </s> (EOS), 3..258 = bytes 0x00..0xFF
// (the same id layout as llama2.c's byte tokens). Encode is BOS (with
// add_special_tokens) then one token per byte; no dummy prefix, no merges.
// Decode concatenates the bytes; ids 0..2 are special: dropped when
// skip_special_tokens, else written as "<unk>", "<s>", "</s>". Ids outside
// the vocabulary decode to nothing.
//
// Thread ownership: stateless; all methods are const and thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace gqa {

class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr int kUnkId = 0;
  static constexpr int kBosId = 1;
  static constexpr int kEosId = 2;
  static constexpr int kFirstByteId = 3;
  static constexpr int kVocabSize = 259;

  int vocab_size() const override { return kVocabSize; }
  int bos_id() const override { return kBosId; }
  std::vector<int> eos_ids() const override { return {kEosId}; }

  std::vector<int> Encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string Decode(std::span<const int> ids, bool skip_special_tokens = true) const override;
  // "<unk>", "<s>", "</s>", byte tokens as "<0xHH>" (always valid UTF-8);
  // "" for an invalid id.
  std::string TokenString(int id) const override;
};

}  // namespace gqa
