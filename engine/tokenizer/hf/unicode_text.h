// Unicode helpers for the HF tokenizer: UTF-8 stepping over text already known
// to be well-formed, the character classes HF tokenizers (Rust) uses, and
// normalization forms. White_Space and Numeric come from the tables generated
// from the reference (unicode_classes.h), \w from ICU; normalization is ICU's
// (Debian libicu-dev) limited to the Unicode 9.0 characters the reference's
// normalization tables know (unicode_text.cc).
//
// Thread ownership: free functions; ICU's normalizer instances are immutable
// singletons. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gqa::hf {

// Decodes the character at (*pos) of well-formed UTF-8 `text` and advances
// *pos past it. Precondition: *pos < text.size() and is a character boundary.
inline char32_t DecodeUtf8(std::string_view text, std::size_t* pos) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + *pos;
  if (s[0] < 0x80) {
    *pos += 1;
    return s[0];
  }
  if (s[0] < 0xE0) {
    *pos += 2;
    return ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
  }
  if (s[0] < 0xF0) {
    *pos += 3;
    return ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
  }
  *pos += 4;
  return ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
}

// Byte length of the UTF-8 character starting with lead byte `lead`.
inline std::size_t Utf8CharLength(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Appends the UTF-8 encoding of `c` (a Unicode scalar value) to `out`.
void AppendUtf8(char32_t c, std::string* out);

// Rust `char::is_whitespace` and regex `\s`: the White_Space property.
bool IsWhiteSpace(char32_t c);

// Rust regex `\w`: Alphabetic, marks (Mn, Mc, Me), Nd, Pc or Join_Control.
bool IsWordChar(char32_t c);

// Rust `char::is_numeric`: general category Nd, Nl or No.
bool IsNumeric(char32_t c);

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };

// Normalizes well-formed UTF-8 `text` in place.
void NormalizeUnicode(NormalizationForm form, std::string* text);

}  // namespace gqa::hf
