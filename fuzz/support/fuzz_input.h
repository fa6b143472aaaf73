// FuzzInput: reads a fuzzer's byte string as a sequence of small decisions
// (a selector byte, an id, a length-prefixed piece), the way libFuzzer's
// FuzzedDataProvider does, but in plain C++ so the GCC build's replay test
// compiles the same targets. Reads past the end give zeros / empty pieces:
// every byte string is a valid input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gqa::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return pos_ >= data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

  // The next byte, 0 when none is left.
  uint8_t Byte() { return empty() ? 0 : static_cast<uint8_t>(data_[pos_++]); }
  // Two bytes, little-endian.
  uint16_t U16() {
    const uint16_t lo = Byte();
    return static_cast<uint16_t>(lo | (Byte() << 8));
  }
  bool Bool() { return (Byte() & 1) != 0; }
  // Up to `n` bytes (fewer at the end).
  std::string_view Take(size_t n) {
    const std::string_view s = data_.substr(pos_, n);
    pos_ += s.size();
    return s;
  }
  // A piece of at most `max_len` bytes: one length byte, then the bytes.
  std::string_view Piece(size_t max_len) { return Take(Byte() % (max_len + 1)); }
  // Everything not read yet.
  std::string_view Rest() { return Take(remaining()); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace gqa::fuzz
