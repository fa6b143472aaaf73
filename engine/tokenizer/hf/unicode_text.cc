#include "engine/tokenizer/hf/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

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
  return u_isUWhiteSpace(static_cast<UChar32>(c));
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
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return true;
    default:
      return false;
  }
}

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
    case NormalizationForm::kNfc: norm = unorm2_getNFCInstance(&status); break;
    case NormalizationForm::kNfd: norm = unorm2_getNFDInstance(&status); break;
    case NormalizationForm::kNfkc: norm = unorm2_getNFKCInstance(&status); break;
    case NormalizationForm::kNfkd: norm = unorm2_getNFKDInstance(&status); break;
  }
  if (U_FAILURE(status)) return;  // ICU data missing: leave the text as is

  // UTF-8 -> UTF-16 -> normalized UTF-16 -> UTF-8 (ICU's C API works in UTF-16).
  std::vector<UChar> utf16(text->size() + 1);
  int32_t len16 = 0;
  u_strFromUTF8(utf16.data(), static_cast<int32_t>(utf16.size()), &len16, text->data(),
                static_cast<int32_t>(text->size()), &status);
  if (U_FAILURE(status)) return;
  // NFKD expands at most 18x per character; grow on U_BUFFER_OVERFLOW_ERROR.
  std::vector<UChar> normalized(static_cast<std::size_t>(len16) * 2 + 16);
  int32_t len_norm = unorm2_normalize(norm, utf16.data(), len16, normalized.data(),
                                      static_cast<int32_t>(normalized.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    status = U_ZERO_ERROR;
    normalized.resize(static_cast<std::size_t>(len_norm));
    len_norm = unorm2_normalize(norm, utf16.data(), len16, normalized.data(),
                                static_cast<int32_t>(normalized.size()), &status);
  }
  if (U_FAILURE(status)) return;
  std::string out(static_cast<std::size_t>(len_norm) * 3, '\0');
  int32_t len8 = 0;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &len8, normalized.data(), len_norm,
              &status);
  if (U_FAILURE(status)) return;
  out.resize(static_cast<std::size_t>(len8));
  *text = std::move(out);
}

}  // namespace gqa::hf
