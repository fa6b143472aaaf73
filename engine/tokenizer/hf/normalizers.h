// Normalizers of HF tokenizer.json ("normalizer"): rewrite the text of each
// piece between added tokens before pre-tokenization. Supported types:
// Sequence, Prepend, Append, Replace (String or Regex pattern), NFC, NFD,
// NFKC, NFKD, Strip. HF keeps an alignment to the original text; we need only
// the normalized text (we return ids, not offsets).
//
// Thread ownership: immutable after construction; Normalize is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `text` (well-formed UTF-8; stays well-formed) in place.
  virtual void Normalize(std::string* text) const = 0;
};

// Builds the normalizer of a tokenizer.json "normalizer" object. `where` names
// the JSON path for error messages.
absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& json,
                                                               const std::string& where);

}  // namespace gqa::hf
