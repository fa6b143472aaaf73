// GGUF: the header, every metadata key/value (each typed getter on each key),
// the tensor infos, then what the loaders read from a parsed file: the model
// config, the vocabulary as a tokenizer (encoding and decoding a fixed text),
// and, for a small model, the weights with dequantization.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/model/gguf_loader.h"
#include "engine/tokenizer/gguf/gguf_tokenizer.h"

namespace {

// Weights are loaded only when dequantizing them stays cheap.
constexpr int64_t kMaxLoadElements = 1 << 20;

void ReadEveryValue(const gqa::gguf::GgufFile& f) {
  for (const std::string& key : f.keys()) {
    (void)f.GetString(key);
    (void)f.GetUint(key);
    (void)f.GetInt(key);
    (void)f.GetFloat(key);
    (void)f.GetBool(key);
    (void)f.GetStringArray(key);
    (void)f.GetFloatArray(key);
    (void)f.GetIntArray(key);
    (void)f.GetArrayLength(key);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = gqa::gguf::GgufFile::FromBytes(std::span<const uint8_t>(data, size), "fuzz.gguf");
  if (!file.ok()) return 0;
  const gqa::gguf::GgufFile& f = **file;
  ReadEveryValue(f);
  int64_t total = 0;
  for (const gqa::gguf::TensorInfo& t : f.tensors()) {
    if (f.FindTensor(t.name) == nullptr) __builtin_trap();
    if (t.nbytes > 0) {
      volatile uint8_t sink = t.data[0] + t.data[t.nbytes - 1];  // in bounds, as promised
      (void)sink;
    }
    total += t.numel();
  }
  auto tokenizer = gqa::LoadGgufTokenizer(f);
  if (tokenizer.ok()) {
    const std::vector<int> ids = (*tokenizer)->Encode("Hello world! <s> \xe2\x96\x81x\n\t 123");
    (void)(*tokenizer)->Decode(ids, /*skip_special_tokens=*/false);
  }
  auto config = gqa::GgufModelConfig(f);
  if (config.ok() && total <= kMaxLoadElements) {
    (void)gqa::LoadGgufWeights(f, gqa::DType::kF32);
  }
  return 0;
}
