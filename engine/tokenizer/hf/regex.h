// Regex: a compiled PCRE2 pattern (UTF + Unicode properties, JIT) that finds
// all non-overlapping matches the way HF tokenizers' Oniguruma `find_iter`
// does. Used by the Split pre-tokenizer, the ByteLevel pre-tokenizer's GPT-2
// pattern and the Replace normalizer/decoder.
//
// Patterns come from tokenizer.json, written for Oniguruma's Ruby syntax. The
// ones real tokenizers use (\p{L}, \p{N}, \s, (?i:...), look-ahead) mean the
// same in PCRE2 with PCRE2_UTF | PCRE2_UCP once \s, \w and \h are spelled
// as Oniguruma defines them (regex.cc); ^ and $ match at line breaks as in
// Ruby (PCRE2_MULTILINE). A pattern PCRE2 rejects is a load error.
//
// Thread ownership: immutable after Compile; FindAll is thread-safe (match
// data and the JIT stack are per thread).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::hf {

class Regex {
 public:
  // Byte offsets [begin, end) of one match.
  using Span = std::pair<std::size_t, std::size_t>;

  static absl::StatusOr<std::unique_ptr<Regex>> Compile(std::string_view pattern);

  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the matches in `text` (well-formed UTF-8) to `matches`, left to
  // right. An empty match right where the previous match ended is skipped
  // (the scan moves one character on), as in Rust's find_iter.
  void FindAll(std::string_view text, std::vector<Span>* matches) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex(std::string pattern, void* code, bool jit);

  std::string pattern_;
  void* code_;  // pcre2_code_8*, owned
  bool jit_;    // JIT compilation succeeded
};

}  // namespace gqa::hf
