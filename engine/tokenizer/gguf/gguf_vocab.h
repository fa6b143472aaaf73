// GgufVocab: the tokenizer metadata of a GGUF file (llama.cpp's
// tokenizer.ggml.* keys) as plain data, checked for consistency: one type
// (and one score, when present) per token, special ids inside the vocabulary.
//
// Special ids follow llama.cpp's loader: a key that is absent leaves the
// model type's default (SentencePiece "llama": bos 1, eos 2, unk 0; "gpt2":
// none). add_bos / add_eos / add_space_prefix stay unset when absent; the
// tokenizer builder picks the defaults (gguf_tokenizer_json.h).
//
// Thread ownership: plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::gguf {
class GgufFile;
}  // namespace gqa::gguf

namespace gqa {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class GgufTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct GgufVocab {
  std::string name;   // the file, for error messages
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;    // tokenizer.ggml.pre; empty when absent
  std::vector<std::string> tokens;   // id -> text
  std::vector<float> scores;         // id -> score; empty when absent
  std::vector<GgufTokenType> types;  // id -> type; kNormal for all when absent
  std::vector<std::string> merges;   // "left right", by rank (gpt2)

  // -1: none.
  int bos_id = -1;
  int eos_id = -1;
  int unk_id = -1;
  int pad_id = -1;
  int eot_id = -1;
  int eom_id = -1;
  int fim_pad_id = -1;
  int fim_rep_id = -1;
  int fim_sep_id = -1;

  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;
  bool remove_extra_whitespaces = false;
};

// Reads and checks the tokenizer keys; errors name the file and the key.
absl::StatusOr<GgufVocab> ReadGgufVocab(const gguf::GgufFile& file);

// Checks what ReadGgufVocab checks on a vocabulary built in code (tests).
absl::Status ValidateGgufVocab(const GgufVocab& vocab);

}  // namespace gqa
