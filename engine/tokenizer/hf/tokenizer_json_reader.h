// Streams a tokenizer.json (nlohmann SAX) into a small DOM of everything
// except the two big arrays, model.vocab and model.merges, which go straight
// into vectors: a 150k-token file loads several times faster than through a
// full DOM, whose objects are std::maps.
//
// Thread ownership: plain data and a free function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gqa::hf {

struct RawTokenizerJson {
  nlohmann::json root;  // the document, model.vocab and model.merges left out
  bool has_vocab = false;
  bool has_merges = false;
  // model.vocab in file order: token -> id (ids unchecked).
  std::vector<std::pair<std::string, int64_t>> vocab;
  // model.merges in file order, either form: "a b" split at its space, or [a, b].
  std::vector<std::pair<std::string, std::string>> merges;
};

// `file` names the file in error messages.
absl::StatusOr<RawTokenizerJson> ReadTokenizerJson(std::string_view json_text,
                                                   const std::string& file);

}  // namespace gqa::hf
