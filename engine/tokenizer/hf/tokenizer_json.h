// Parses an HF tokenizer.json into its pipeline components: normalizer,
// pre-tokenizer, BPE model, post-processor, decoder and added tokens. Only
// "model.type": "BPE" is supported (Llama 2/3, Mistral, Qwen 2/3, Gemma).
// Any component type we don't implement is a load error naming it, never a
// silent difference from HF.
//
// Thread ownership: plain data, owned by the HfTokenizer built from it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/tokenizer/hf/added_vocabulary.h"
#include "engine/tokenizer/hf/bpe_model.h"
#include "engine/tokenizer/hf/decoders.h"
#include "engine/tokenizer/hf/normalizers.h"
#include "engine/tokenizer/hf/post_processor.h"
#include "engine/tokenizer/hf/pre_tokenizers.h"
#include "engine/tokenizer/hf/tokenizer_json_reader.h"

namespace gqa::hf {

struct TokenizerJson {
  std::unique_ptr<Normalizer> normalizer;         // null: none
  std::unique_ptr<PreTokenizer> pre_tokenizer;    // null: the whole text is one word
  std::unique_ptr<BpeModel> model;                // never null
  std::unique_ptr<PostProcessor> post_processor;  // null: none
  std::unique_ptr<Decoder> decoder;               // null: tokens joined by ' '
  AddedVocabulary added_tokens;
};

// `file` names the file in error messages.
absl::StatusOr<TokenizerJson> ParseTokenizerJson(std::string_view json_text,
                                                 const std::string& file);
// The same from a document already read apart (or built in code, as the GGUF
// tokenizer does): saves serializing and re-reading a large vocabulary.
absl::StatusOr<TokenizerJson> ParseTokenizerJson(RawTokenizerJson raw, const std::string& file);

}  // namespace gqa::hf
