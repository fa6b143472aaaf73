// GgufFile: a parsed GGUF (llama.cpp's model format, versions 2 and 3): its
// metadata key/values and its tensor infos, with tensor data left in place.
//
// Layout (all little-endian): magic "GGUF", u32 version, u64 tensor_count,
// u64 kv_count, then kv_count key/values (string key, u32 value type, value),
// then tensor_count infos (string name, u32 n_dims, u64 dims[n_dims], u32 ggml
// type, u64 offset), padding to general.alignment (default 32), then the data
// section; each tensor's offset is relative to it and a multiple of the
// alignment. A string is a u64 length and that many bytes (no terminator).
//
// The parser trusts nothing: every length and count is checked against the
// bytes left before anything is reserved, so a hostile file gives an error
// naming the file and the field or tensor, never a crash, an out-of-bounds
// read or a huge allocation. Immutable after parsing: safe to share between
// threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::gguf {

// ggml's numbering (ggml.h enum ggml_type); gaps are removed types.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

// GGUF metadata value types (gguf.h enum gguf_type).
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view ValueTypeName(ValueType t);  // "uint32", "string", ...

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // GGUF order: dims[0] is the fastest-varying (a row's length)
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;  // into the mapping / byte span, already bounds-checked
  size_t nbytes = 0;
  int64_t numel() const;  // product of dims (checked against overflow when parsed)
};

// One metadata value, pointing into the file's bytes. For an array,
// `type` is kArray, `elem_type` the elements' type, `count` their number and
// `payload` the encoded elements (nested arrays included).
struct Value {
  ValueType type = ValueType::kUint8;
  ValueType elem_type = ValueType::kUint8;
  uint64_t count = 0;
  std::span<const uint8_t> payload;  // the encoded value (after the type tag)
};

class GgufFile {
 public:
  // Maps `path` (MappedFile) and parses it; errors name the path.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(std::string_view path);
  // Parses bytes that outlive the result (a fuzzer or test calls this); `name` for errors.
  static absl::StatusOr<std::unique_ptr<GgufFile>> FromBytes(std::span<const uint8_t> bytes,
                                                             std::string name);

  uint32_t version() const { return version_; }
  const std::string& name() const { return name_; }  // the path, for error messages
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section

  bool Has(std::string_view key) const { return values_.find(key) != values_.end(); }
  // The raw value of `key`, or null.
  const Value* Find(std::string_view key) const;
  // Every key, in file order.
  const std::vector<std::string>& keys() const { return keys_; }

  // Typed getters: an error naming the file and the key when absent or of another type.
  absl::StatusOr<std::string_view> GetString(std::string_view key) const;
  absl::StatusOr<uint64_t> GetUint(std::string_view key) const;  // any integer type, >= 0
  absl::StatusOr<int64_t> GetInt(std::string_view key) const;    // any integer type
  absl::StatusOr<double> GetFloat(std::string_view key) const;   // f32 or f64
  absl::StatusOr<bool> GetBool(std::string_view key) const;
  absl::StatusOr<std::vector<std::string_view>> GetStringArray(std::string_view key) const;
  absl::StatusOr<std::vector<float>> GetFloatArray(std::string_view key) const;  // f32/f64 arrays
  absl::StatusOr<std::vector<int64_t>> GetIntArray(std::string_view key) const;  // any int array
  // The element count of an array value (any element type).
  absl::StatusOr<uint64_t> GetArrayLength(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(std::string_view name) const;
  std::shared_ptr<const void> keep_alive() const { return keep_alive_; }  // null for FromBytes

 private:
  friend class GgufParser;
  GgufFile() = default;
  absl::StatusOr<const Value*> Get(std::string_view key) const;  // error when absent

  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::string> keys_;
  std::map<std::string, Value, std::less<>> values_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;  // name -> index in tensors_
  std::shared_ptr<const void> keep_alive_;
};

// True for a regular file whose name ends in ".gguf" or whose first four
// bytes are "GGUF" (what `--model` auto-detection uses); reads 4 bytes at most.
bool IsGgufFile(std::string_view path);

}  // namespace gqa::gguf
