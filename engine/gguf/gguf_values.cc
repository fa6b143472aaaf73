// GgufFile's typed metadata getters. Values were bounds-checked when parsed,
// so decoding here reads within each value's payload.
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_encoding.h"
#include "engine/gguf/gguf_file.h"

namespace gqa::gguf {
namespace {

using internal::Load;

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The size of an integer of type `t`; 0 when `t` is not an integer type.
size_t IntSize(ValueType t) { return internal::IsIntegerType(t) ? internal::MinEncodedSize(t) : 0; }

// The integer of type `t` at p: its two's complement bits and whether it is
// a negative signed value.
struct Int {
  uint64_t bits;
  bool negative;
};
Int LoadInt(ValueType t, const uint8_t* p) {
  int64_t s = 0;
  switch (t) {
    case ValueType::kUint8:
      return {Load<uint8_t>(p), false};
    case ValueType::kUint16:
      return {Load<uint16_t>(p), false};
    case ValueType::kUint32:
      return {Load<uint32_t>(p), false};
    case ValueType::kUint64:
      return {Load<uint64_t>(p), false};
    case ValueType::kInt8:
      s = Load<int8_t>(p);
      break;
    case ValueType::kInt16:
      s = Load<int16_t>(p);
      break;
    case ValueType::kInt32:
      s = Load<int32_t>(p);
      break;
    case ValueType::kInt64:
      s = Load<int64_t>(p);
      break;
    default:
      break;
  }
  return {static_cast<uint64_t>(s), s < 0};
}

absl::Status TypeError(const std::string& file, std::string_view key, const Value& v,
                       std::string_view wanted) {
  std::string have(ValueTypeName(v.type));
  if (v.type == ValueType::kArray) have = "array of " + std::string(ValueTypeName(v.elem_type));
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": metadata key '", Sv(key), "' is a ", have, ", expected ", Sv(wanted)));
}

}  // namespace

absl::StatusOr<std::string_view> GgufFile::GetString(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (v->type != ValueType::kString) return TypeError(name_, key, *v, "a string");
  return std::string_view(reinterpret_cast<const char*>(v->payload.data()), v->payload.size());
}

absl::StatusOr<uint64_t> GgufFile::GetUint(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (IntSize(v->type) == 0) return TypeError(name_, key, *v, "an integer");
  const Int i = LoadInt(v->type, v->payload.data());
  if (i.negative) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": metadata key '", Sv(key), "' is ",
                                                   static_cast<int64_t>(i.bits),
                                                   ", expected a non-negative integer"));
  }
  return i.bits;
}

absl::StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (IntSize(v->type) == 0) return TypeError(name_, key, *v, "an integer");
  const Int i = LoadInt(v->type, v->payload.data());
  if (!i.negative && i.bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": metadata key '", Sv(key), "' is ", i.bits, ", too large for int64"));
  }
  return static_cast<int64_t>(i.bits);
}

absl::StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (v->type == ValueType::kFloat32) return Load<float>(v->payload.data());
  if (v->type == ValueType::kFloat64) return Load<double>(v->payload.data());
  return TypeError(name_, key, *v, "a float32 or float64");
}

absl::StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (v->type != ValueType::kBool) return TypeError(name_, key, *v, "a bool");
  return v->payload[0] != 0;
}

absl::StatusOr<uint64_t> GgufFile::GetArrayLength(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (v->type != ValueType::kArray) return TypeError(name_, key, *v, "an array");
  return v->count;
}

absl::StatusOr<std::vector<std::string_view>> GgufFile::GetStringArray(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  if (v->type != ValueType::kArray || v->elem_type != ValueType::kString) {
    return TypeError(name_, key, *v, "an array of string");
  }
  std::vector<std::string_view> out;
  out.reserve(v->count);  // count <= payload bytes / 8 (checked when parsed)
  const uint8_t* p = v->payload.data();
  for (uint64_t i = 0; i < v->count; ++i) {
    const uint64_t len = Load<uint64_t>(p);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), len);
    p += 8 + len;
  }
  return out;
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  const bool f32 = v->elem_type == ValueType::kFloat32;
  if (v->type != ValueType::kArray || (!f32 && v->elem_type != ValueType::kFloat64)) {
    return TypeError(name_, key, *v, "an array of float32 or float64");
  }
  std::vector<float> out(v->count);
  for (uint64_t i = 0; i < v->count; ++i) {
    out[i] = f32 ? Load<float>(v->payload.data() + 4 * i)
                 : static_cast<float>(Load<double>(v->payload.data() + 8 * i));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  GQA_ASSIGN_OR_RETURN(const Value* v, Get(key));
  const size_t size = v->type == ValueType::kArray ? IntSize(v->elem_type) : 0;
  if (size == 0) return TypeError(name_, key, *v, "an array of integers");
  std::vector<int64_t> out(v->count);
  for (uint64_t i = 0; i < v->count; ++i) {
    const Int x = LoadInt(v->elem_type, v->payload.data() + size * i);
    if (!x.negative && x.bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(absl::StrCat(name_, ": metadata key '", Sv(key), "'[", i,
                                                     "] is ", x.bits, ", too large for int64"));
    }
    out[i] = static_cast<int64_t>(x.bits);
  }
  return out;
}

}  // namespace gqa::gguf
