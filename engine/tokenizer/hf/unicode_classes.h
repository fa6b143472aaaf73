// The character classes of HF tokenizers' regex engine (Oniguruma, Ruby
// syntax, Unicode): \p{L}, \p{Lu}, ..., \p{N}, \p{Nd}, ..., \p{P}, \p{S},
// \p{Z} and \s, \w, \d, \h. The code point lists in unicode_classes.inc are
// generated from the reference itself (unicode_classes_gen.py), so they carry
// its Unicode version, which can be newer than PCRE2's or ICU's.
//
// Thread ownership: immutable tables; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gqa::hf {

// PCRE2 class contents ("\x{41}-\x{5A}\x{61}-...", to go inside [...]) for
// the class named `name` ("L", "Nd", "s", "w", "h", ...), or nullptr when we
// have no table for that name.
const std::string* UnicodeClassPattern(std::string_view name);

// Whether code point `c` is in class `name`; false for unknown names.
bool InUnicodeClass(std::string_view name, char32_t c);

}  // namespace gqa::hf
