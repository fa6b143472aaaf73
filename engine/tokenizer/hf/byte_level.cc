#include "engine/tokenizer/hf/byte_level.h"

#include <array>

#include "engine/tokenizer/hf/unicode_text.h"

namespace gqa::hf {
namespace {

struct Tables {
  std::array<char32_t, 256> byte_to_char{};
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 324> char_to_byte{};  // code points < 0x144 cover the alphabet
};

const Tables& GetTables() {
  static const Tables* const tables = [] {
    auto* t = new Tables();
    t->char_to_byte.fill(-1);
    int next_extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t c = printable ? static_cast<char32_t>(b) : 0x100 + next_extra++;
      t->byte_to_char[b] = c;
      AppendUtf8(c, &t->byte_to_utf8[b]);
      t->char_to_byte[c] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return *tables;
}

}  // namespace

char32_t ByteLevelChar(uint8_t byte) { return GetTables().byte_to_char[byte]; }

std::string_view ByteLevelCharUtf8(uint8_t byte) { return GetTables().byte_to_utf8[byte]; }

int ByteLevelByte(char32_t c) {
  const Tables& t = GetTables();
  return c < t.char_to_byte.size() ? t.char_to_byte[c] : -1;
}

bool ByteLevelToBytes(std::string_view token, std::string* out) {
  const std::size_t mark = out->size();
  for (std::size_t i = 0; i < token.size();) {
    const int b = ByteLevelByte(DecodeUtf8(token, &i));
    if (b < 0) {
      out->resize(mark);
      return false;
    }
    out->push_back(static_cast<char>(b));
  }
  return true;
}

void BytesToByteLevel(std::string_view bytes, std::string* out) {
  const Tables& t = GetTables();
  for (const char ch : bytes) out->append(t.byte_to_utf8[static_cast<uint8_t>(ch)]);
}

}  // namespace gqa::hf
