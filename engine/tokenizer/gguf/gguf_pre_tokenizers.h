// The HF tokenizer.json pieces a GGUF byte-level BPE vocabulary
// (tokenizer.ggml.model = "gpt2") needs for its tokenizer.ggml.pre name:
// llama.cpp's per-name regex splits (llama-vocab.cpp, llm_tokenizer_bpe)
// written as the HF pre-tokenizer of the model the name stands for.
//
//   smollm starcoder refact codeshell  Digits(individual) + ByteLevel(GPT-2 regex)
//                                      (SmolLM2's own tokenizer.json)
//   llama-bpe llama3 llama-v3 falcon3  Split(Llama 3 regex) + ByteLevel; merges ignored
//                                      for whole-vocabulary words; BOS added by default
//   qwen2 deepseek-r1-qwen             NFC + Split(Qwen 2 regex) + ByteLevel (Qwen2's
//                                      tokenizer.json; llama.cpp skips the NFC step)
//   gpt2 gpt-2 phi-2                   ByteLevel(GPT-2 regex)
//   default, or no name                llama.cpp's default: four Isolated regex splits
//                                      ([\p{P}$+<=>^~|]+, GPT-2, \p{N}+, [0-9]{3}) + ByteLevel
// Any other name is a load error naming it.
//
// Thread ownership: free functions returning fresh values.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gqa {

struct GgufPreTokenizer {
  nlohmann::json normalizer;     // null: none
  nlohmann::json pre_tokenizer;  // a tokenizer.json "pre_tokenizer" object
  bool ignore_merges = false;    // model.ignore_merges
  bool add_bos_default = false;  // when tokenizer.ggml.add_bos_token is absent
};

// `where` names the file in errors.
absl::StatusOr<GgufPreTokenizer> GgufBytePreTokenizer(std::string_view pre,
                                                      const std::string& where);

}  // namespace gqa
