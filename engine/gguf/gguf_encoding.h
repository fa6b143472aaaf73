// Sizes of GGUF metadata encodings and an unaligned load, shared by the
// parser (gguf_file.cc) and the typed getters (gguf_values.cc). Internal to
// engine/gguf.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/gguf/gguf_file.h"

namespace gqa::gguf::internal {

// The smallest encoding of one element of `t` (a string's length field, an
// array's type and count), so that a count can be checked against the bytes
// left before anything is iterated or reserved. For the fixed-size types it
// is the value's size. 0 for an unknown type.
inline uint64_t MinEncodedSize(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kBool:
      return 1;
    case ValueType::kUint16:
    case ValueType::kInt16:
      return 2;
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kFloat32:
      return 4;
    case ValueType::kUint64:
    case ValueType::kInt64:
    case ValueType::kFloat64:
    case ValueType::kString:
      return 8;
    case ValueType::kArray:
      return 12;
  }
  return 0;
}

inline bool IsIntegerType(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kUint16:
    case ValueType::kInt16:
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kUint64:
    case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}

// A T read from possibly unaligned bytes (the file is little-endian, as this host).
template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace gqa::gguf::internal
