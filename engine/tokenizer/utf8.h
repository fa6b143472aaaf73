// UTF-8 helpers for streaming text out of token bytes.
//
// "Well-formed" is Unicode's Table 3-7: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. An ill-formed stretch is replaced
// by U+FFFD once per "maximal subpart" (Unicode ch. 3, "U+FFFD Substitution of
// Maximal Subparts"; the same result as Python's bytes.decode(errors="replace")
// and the WHATWG decoder): e.g. "\xE4\xBD" + "A" -> U+FFFD "A", "\xFF\xFE" ->
// U+FFFD U+FFFD, "\xED\xA0\x80" -> three U+FFFD.
//
// Thread ownership: free functions, no state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gqa {

inline constexpr std::string_view kUtf8ReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Number of trailing bytes of `bytes` (0..3) that are a proper prefix of a
// well-formed sequence, i.e. that more bytes could still complete. 0 when
// `bytes` ends on a complete character or on bytes that can never complete.
std::size_t Utf8IncompleteTailLength(std::string_view bytes);

// `bytes` with each maximal ill-formed subpart (a trailing incomplete sequence
// included) replaced by U+FFFD. Identity on well-formed UTF-8.
std::string Utf8ReplaceInvalid(std::string_view bytes);

bool IsWellFormedUtf8(std::string_view bytes);

}  // namespace gqa
