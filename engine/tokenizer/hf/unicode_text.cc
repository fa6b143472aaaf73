#include "engine/tokenizer/hf/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <cstdint>
#include <vector>

#include "engine/tokenizer/hf/unicode_classes.h"

namespace gqa::hf {

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool IsWhiteSpace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return InUnicodeClass("s", c);
}

bool IsWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  const auto uc = static_cast<UChar32>(c);
  if (u_hasBinaryProperty(uc, UCHAR_ALPHABETIC) || u_hasBinaryProperty(uc, UCHAR_JOIN_CONTROL)) {
    return true;
  }
  switch (u_charType(uc)) {
    case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_CONNECTOR_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool IsNumeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return InUnicodeClass("N", c);  // Nd, Nl, No in the reference's Unicode version
}

namespace {

// HF tokenizers normalizes with Unicode 9.0 data (its vendored
// unicode-normalization-alignments tables; probed: it reorders the Unicode 9
// mark U+1E944 but not the Unicode 10 mark U+1DF6). Characters assigned later
// are inert there: combining class 0, no decomposition, no composition.
constexpr uint8_t kReferenceNormalizationVersion[2] = {9, 0};

bool UnknownToReference(char32_t c) {
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(c), age);
  return age[0] > kReferenceNormalizationVersion[0] ||
         (age[0] == kReferenceNormalizationVersion[0] &&
          age[1] > kReferenceNormalizationVersion[1]);
}

// ICU normalization of well-formed UTF-8 `text`, appended to `out`.
void IcuNormalize(const UNormalizer2* norm, std::string_view text, std::string* out) {
  if (text.empty()) return;
  UErrorCode status = U_ZERO_ERROR;
  // UTF-8 -> UTF-16 -> normalized UTF-16 -> UTF-8 (ICU's C API works in UTF-16).
  std::vector<UChar> utf16(text.size() + 1);
  int32_t len16 = 0;
  u_strFromUTF8(utf16.data(), static_cast<int32_t>(utf16.size()), &len16, text.data(),
                static_cast<int32_t>(text.size()), &status);
  // NFKD expands a character up to 18 times: grow on U_BUFFER_OVERFLOW_ERROR.
  std::vector<UChar> normalized(static_cast<std::size_t>(len16) * 2 + 16);
  int32_t len_norm = unorm2_normalize(norm, utf16.data(), len16, normalized.data(),
                                      static_cast<int32_t>(normalized.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    status = U_ZERO_ERROR;
    normalized.resize(static_cast<std::size_t>(len_norm));
    len_norm = unorm2_normalize(norm, utf16.data(), len16, normalized.data(),
                                static_cast<int32_t>(normalized.size()), &status);
  }
  if (U_FAILURE(status)) {
    out->append(text);  // cannot happen for well-formed input
    return;
  }
  const std::size_t start = out->size();
  out->resize(start + static_cast<std::size_t>(len_norm) * 3);
  int32_t len8 = 0;
  u_strToUTF8(out->data() + start, len_norm * 3, &len8, normalized.data(), len_norm, &status);
  out->resize(start + static_cast<std::size_t>(U_FAILURE(status) ? 0 : len8));
}

}  // namespace

void NormalizeUnicode(NormalizationForm form, std::string* text) {
  // Fast path: ASCII is invariant under every form; for NFC so is anything
  // below U+0300 (the first character that is not NFC_Quick_Check=Yes or has
  // a non-zero combining class), i.e. any text without a byte >= 0xCC.
  const unsigned char limit = form == NormalizationForm::kNfc ? 0xCC : 0x80;
  bool invariant = true;
  for (const char ch : *text) {
    if (static_cast<unsigned char>(ch) >= limit) {
      invariant = false;
      break;
    }
  }
  if (invariant) return;

  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* norm = nullptr;
  switch (form) {
    case NormalizationForm::kNfc:
      norm = unorm2_getNFCInstance(&status);
      break;
    case NormalizationForm::kNfd:
      norm = unorm2_getNFDInstance(&status);
      break;
    case NormalizationForm::kNfkc:
      norm = unorm2_getNFKCInstance(&status);
      break;
    case NormalizationForm::kNfkd:
      norm = unorm2_getNFKDInstance(&status);
      break;
  }
  if (U_FAILURE(status)) return;  // no ICU data: leave the text as is

  // Normalize the stretches between characters the reference doesn't know;
  // those stay as they are and, being inert starters, separate the stretches.
  std::string out;
  out.reserve(text->size() + text->size() / 4);
  std::size_t segment = 0;
  for (std::size_t i = 0; i < text->size();) {
    const std::size_t begin = i;
    const char32_t c = DecodeUtf8(*text, &i);
    if (c < 0x300 || !UnknownToReference(c)) continue;
    IcuNormalize(norm, std::string_view(*text).substr(segment, begin - segment), &out);
    out.append(*text, begin, i - begin);
    segment = i;
  }
  IcuNormalize(norm, std::string_view(*text).substr(segment), &out);
  *text = std::move(out);
}

}  // namespace gqa::hf
