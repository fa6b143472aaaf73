// GgufBuilder: writes GGUF bytes for tests, well-formed by default, with knobs
// to make them hostile (wrong counts, offsets, value types). Also writes a
// llama model's weights as llama.cpp's converter does (q/k rows permuted for
// interleaved RoPE).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/model_weights.h"

namespace gqa::testing {

class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3) : version_(version) {}

  // Metadata, in the order added. AddRaw writes `payload` as the value's
  // encoding after the type tag (any type number, for hostile files).
  void AddRaw(std::string_view key, uint32_t type, std::vector<uint8_t> payload);
  void AddUint8(std::string_view key, uint8_t v);
  void AddInt8(std::string_view key, int8_t v);
  void AddUint16(std::string_view key, uint16_t v);
  void AddInt16(std::string_view key, int16_t v);
  void AddUint32(std::string_view key, uint32_t v);
  void AddInt32(std::string_view key, int32_t v);
  void AddUint64(std::string_view key, uint64_t v);
  void AddInt64(std::string_view key, int64_t v);
  void AddFloat32(std::string_view key, float v);
  void AddFloat64(std::string_view key, double v);
  void AddBool(std::string_view key, bool v);
  void AddString(std::string_view key, std::string_view v);
  void AddStringArray(std::string_view key, const std::vector<std::string>& v);
  void AddFloat32Array(std::string_view key, const std::vector<float>& v);
  void AddInt32Array(std::string_view key, const std::vector<int32_t>& v);

  // A tensor; dims in GGUF order (dims[0] = row length). Its offset is the
  // next aligned one unless `offset` is given.
  void AddTensor(std::string_view name, std::vector<int64_t> dims, gguf::GgmlType type,
                 std::vector<uint8_t> data, std::optional<uint64_t> offset = std::nullopt);
  void AddTensorF32(std::string_view name, std::vector<int64_t> dims, const float* values);

  // Hostile knobs.
  std::optional<uint64_t> tensor_count;  // written instead of the real count
  std::optional<uint64_t> kv_count;
  std::optional<uint32_t> raw_type;  // for the last tensor: written instead of its type
  uint64_t alignment = 32;           // used for layout; add general.alignment yourself

  std::vector<uint8_t> Build() const;

  // Little-endian encodings, for AddRaw.
  static std::vector<uint8_t> U32(uint32_t v);
  static std::vector<uint8_t> U64(uint64_t v);
  static std::vector<uint8_t> Str(std::string_view s);

 private:
  struct Kv {
    std::string key;
    uint32_t type;
    std::vector<uint8_t> payload;
  };
  struct Tensor {
    std::string name;
    std::vector<int64_t> dims;
    uint32_t type;
    std::vector<uint8_t> data;
    std::optional<uint64_t> offset;
  };
  uint32_t version_;
  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
};

// `w` (HF halves RoPE layout) as a GGUF of architecture "llama", the way
// llama.cpp's convert_hf_to_gguf.py writes it: llama.* hyper-parameters,
// blk.N.* tensor names, dims reversed, and attn_q/attn_k rows permuted from
// halves to interleaved with its `permute`. 2-D weights are stored as
// `matrix_type` (F32, F16 or Q8_0 by a plain round-to-nearest quantizer),
// norms as F32. Keys and tensors named in `skip` are left out, so a test can
// add its own in their place before Build().
// With `arch` "qwen2" the keys are qwen2.*, q/k rows stay in halves order
// (its converter does not permute) and the q/k/v biases are written.
GgufBuilder LlamaGguf(const ModelWeights& w, gguf::GgmlType matrix_type = gguf::GgmlType::kF32,
                      const std::set<std::string>& skip = {}, const std::string& arch = "llama");
absl::Status WriteLlamaGguf(const ModelWeights& w, const std::string& path,
                            gguf::GgmlType matrix_type = gguf::GgmlType::kF32,
                            const std::string& arch = "llama");
absl::Status WriteBytes(const std::vector<uint8_t>& bytes, const std::string& path);

}  // namespace gqa::testing
