// Encoding arbitrary bytes (invalid UTF-8 included) with every tokenizer of
// FuzzTokenizers(): byte 0 picks the tokenizer, byte 1 add_special_tokens,
// the rest is the text. Every id must be inside the vocabulary, and decoding
// them must not crash; the byte tokenizer must round-trip exactly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/support/fuzz_input.h"
#include "fuzz/support/fuzz_tokenizers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& tokenizers = gqa::fuzz::FuzzTokenizers();
  gqa::fuzz::FuzzInput in(data, size);
  const size_t which = in.Byte() % tokenizers.size();
  const bool add_special_tokens = in.Bool();
  const std::string_view text = in.Rest();
  const gqa::Tokenizer& t = *tokenizers[which].tokenizer;

  const std::vector<int> ids = t.Encode(text, add_special_tokens);
  for (int id : ids) {
    if (id < 0 || id >= t.vocab_size()) __builtin_trap();
  }
  const std::string decoded = t.Decode(ids, /*skip_special_tokens=*/true);
  (void)t.Decode(ids, /*skip_special_tokens=*/false);
  if (which == 0 && decoded != text) __builtin_trap();  // the byte tokenizer is lossless
  return 0;
}
