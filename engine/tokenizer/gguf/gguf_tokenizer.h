// The tokenizer of a GGUF model file (llama.cpp's format): its
// tokenizer.ggml.* metadata read (gguf_vocab.h), turned into the tokenizer.json
// HF would have (gguf_tokenizer_json.h) and run by HfTokenizer, so GGUF and
// HF checkpoints share one BPE, one set of pre-tokenizers and decoders.
// Supported: tokenizer.ggml.model "gpt2" (byte-level BPE; pre-tokenizers in
// gguf_pre_tokenizers.h) and "llama" (SentencePiece with scores and <0xNN>
// byte fallback). eos_ids() is llama.cpp's end-of-generation set, EOS first
// (gguf_special_tokens.h).
//
// Thread ownership: the tokenizers returned are immutable and thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/tokenizer/gguf/gguf_vocab.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"

namespace gqa {

namespace gguf {
class GgufFile;
}  // namespace gguf

// Errors name the file and the key (a missing key, an unsupported model or
// pre-tokenizer name, ids past the vocabulary, merges naming unknown tokens).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGgufTokenizer(const gguf::GgufFile& file);
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGgufTokenizer(const std::string& path);

// From a vocabulary built in code (tests) or read by ReadGgufVocab.
absl::StatusOr<std::unique_ptr<HfTokenizer>> TokenizerFromGgufVocab(GgufVocab vocab);

}  // namespace gqa
