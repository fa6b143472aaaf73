// llama2.c tokenizer.bin loading, then a fixed text through the tokenizer it
// built, both ways.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/tokenizer/llama2c_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tokenizer = gqa::Llama2cTokenizer::FromBytes(bytes, "fuzz/tokenizer.bin");
  if (!tokenizer.ok()) return 0;
  const gqa::Llama2cTokenizer& t = **tokenizer;
  const std::vector<int> ids =
      t.Encode("Hello world! \xe2\x96\x81\xc3\xa9 \xff\x80\x80\x80\x80\x80");
  (void)t.Decode(ids, /*skip_special_tokens=*/false);
  for (int id : {-1, 0, 1, 2, 3, 258, t.vocab_size() - 1, t.vocab_size()}) (void)t.TokenString(id);
  return 0;
}
