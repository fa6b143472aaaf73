// Tokenizer: text <-> token ids. Implemented by the llama2.c tokenizer
// (tokenizer.bin), the byte-level demo tokenizer and the HF tokenizer.json one.
//
// Thread ownership: immutable after construction; every method is const and
// safe to call from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gqa {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;  // -1 when the vocabulary has none
  // Tokens that end generation (EOS, and e.g. <|eot_id|> for Llama 3).
  virtual std::vector<int> eos_ids() const = 0;

  // Encodes `text`. With add_special_tokens, adds what the tokenizer's own
  // convention adds (BOS for Llama; nothing for Qwen).
  virtual std::vector<int> Encode(std::string_view text, bool add_special_tokens = true) const = 0;

  // Decodes `ids` to bytes. The result may end in (or, for byte tokens, hold)
  // an incomplete UTF-8 sequence; IncrementalDecoder deals with that.
  // Special tokens (BOS/EOS, added special tokens) are dropped when skip_special_tokens.
  virtual std::string Decode(std::span<const int> ids, bool skip_special_tokens = true) const = 0;

  // The raw vocabulary entry of `id` (for debugging and logprob displays).
  virtual std::string TokenString(int id) const = 0;
};

}  // namespace gqa
