// StringPattern: the "pattern" of Split, Replace (normalizer and decoder):
// {"String": "literal"} or {"Regex": "..."} in tokenizer.json.
//
// Thread ownership: immutable after construction; copies share the compiled
// regex; all methods are const and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/tokenizer/hf/regex.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

class StringPattern {
 public:
  static StringPattern Literal(std::string literal);
  static StringPattern FromRegex(std::shared_ptr<const Regex> regex);

  // Appends the non-overlapping matches in `text` (well-formed UTF-8), left to
  // right. A literal matches its occurrences; an empty literal matches nothing.
  void FindAll(std::string_view text, std::vector<Regex::Span>* matches) const;

  // Replaces every match in `text` by `content`. `text` may hold ill-formed
  // UTF-8 (decoders see raw bytes): a regex then runs on each well-formed
  // stretch on its own, a literal (well-formed itself) can only match whole
  // characters anyway.
  void ReplaceAll(std::string_view content, std::string* text) const;

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;  // null for a literal
};

// Reads obj["pattern"]: {"String": s} or {"Regex": r}.
absl::StatusOr<StringPattern> StringPatternFromJson(const nlohmann::json& obj,
                                                    const std::string& where);

}  // namespace gqa::hf
