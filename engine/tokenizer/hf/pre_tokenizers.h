// Pre-tokenizers of HF tokenizer.json ("pre_tokenizer"): cut each piece of
// normalized text into the words the model tokenizes one by one. Supported:
// ByteLevel, Split, Metaspace, Digits, Sequence.
//
// Pieces are byte ranges over one text buffer; a stage that only cuts keeps
// the buffer, one that rewrites (Metaspace, ByteLevel) builds a new one.
// Empty pieces are dropped after every stage, as in HF.
//
// ByteLevel maps every byte to its printable character (byte_level.h) after
// cutting. When ByteLevel is the last stage and the BPE model works on raw
// bytes (BpeModel::byte_level_input), that mapping is left to the model:
// construct with defer_byte_level_mapping = true. The ids are the same.
//
// Thread ownership: immutable after construction; PreTokenize is thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

// A piece of text: bytes [begin, end) of PreTokenized::text.
struct PreToken {
  std::size_t begin = 0;
  std::size_t end = 0;
  // The piece starts at byte 0 of the text given to Encode (HF's
  // offsets_original().0 == 0; Metaspace's prepend_scheme "first" uses it).
  bool at_text_start = false;
};

struct PreTokenized {
  std::string text;
  std::vector<PreToken> pieces;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces pt->pieces (and maybe pt->text) by their finer pieces. `scratch`
  // is a spare buffer the stage may use (contents unspecified on return).
  virtual void PreTokenize(PreTokenized* pt, PreTokenized* scratch) const = 0;
};

// True when `json` is ByteLevel, or a Sequence whose last stage is.
bool EndsWithByteLevel(const nlohmann::json& json);

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& json,
                                                                   const std::string& where,
                                                                   bool defer_byte_level_mapping);

}  // namespace gqa::hf
