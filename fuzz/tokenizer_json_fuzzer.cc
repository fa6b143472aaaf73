// HF tokenizer.json loading (normalizers, pre-tokenizers and their regexes,
// the BPE model, added tokens, post-processor, decoder), then a fixed text
// through the tokenizer it built, both ways.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/tokenizer/hf/hf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto tokenizer = gqa::HfTokenizer::FromJsonText(json);
  if (!tokenizer.ok()) return 0;
  const gqa::HfTokenizer& t = **tokenizer;
  const std::vector<int> ids = t.Encode("Hello world!  <s>\n\xc3\xa9\xe2\x96\x81 123 \xff");
  (void)t.Decode(ids, /*skip_special_tokens=*/true);
  (void)t.Decode(ids, /*skip_special_tokens=*/false);
  for (int id : {-1, 0, 1, 2, t.vocab_size() - 1, t.vocab_size()}) (void)t.TokenString(id);
  (void)t.eos_ids();
  return 0;
}
