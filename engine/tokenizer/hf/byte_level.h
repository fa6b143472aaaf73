// GPT-2's byte-level alphabet: each of the 256 byte values is shown as one
// printable Unicode character, so byte-level BPE vocabularies are text.
// Printable Latin-1 bytes (0x21..0x7E, 0xA1..0xAC, 0xAE..0xFF) map to the
// character with the same code point; the other 68 bytes map, in byte order,
// to U+0100, U+0101, ... (space 0x20 -> U+0120 'Ġ', newline 0x0A -> U+010A 'Ċ').
// This is HF tokenizers' `bytes_char` table, used by the ByteLevel
// pre-tokenizer, decoder and the BPE model's raw-byte mode.
//
// Thread ownership: immutable tables built on first use; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gqa::hf {

// The character standing for `byte`, as a code point.
char32_t ByteLevelChar(uint8_t byte);

// UTF-8 of ByteLevelChar(byte) (1 or 2 bytes).
std::string_view ByteLevelCharUtf8(uint8_t byte);

// The byte that `c` stands for, or -1 when `c` is not in the alphabet.
int ByteLevelByte(char32_t c);

// Appends to `out` the bytes that the characters of `token` (valid UTF-8)
// stand for. Returns false, appending nothing, when some character is not in
// the alphabet.
bool ByteLevelToBytes(std::string_view token, std::string* out);

// Appends the byte-level spelling of `bytes` to `out`.
void BytesToByteLevel(std::string_view bytes, std::string* out);

}  // namespace gqa::hf
