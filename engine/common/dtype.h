// Element types of weights, activations and KV cache, and the host-side
// conversions between them. bf16/f16 are stored as raw uint16_t bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace gqa {

enum class DType : uint8_t { kF32, kF16, kBF16 };

inline size_t DTypeSize(DType t) { return t == DType::kF32 ? 4 : 2; }
std::string_view DTypeName(DType t);  // "f32", "f16", "bf16"
// Accepts "f32"/"float32"/"fp32", "f16"/"float16"/"fp16", "bf16"/"bfloat16".
absl::StatusOr<DType> ParseDType(std::string_view name);

inline float Bf16ToF32(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Round to nearest even, as PyTorch does; NaN stays NaN.
inline uint16_t F32ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
float F16ToF32(uint16_t bits);
uint16_t F32ToF16(float f);  // round to nearest even, overflow to inf

// Converts n elements of `src_type` at src to fp32 at dst.
void ConvertToF32(DType src_type, const void* src, float* dst, size_t n);
// Converts n fp32 elements to `dst_type` at dst.
void ConvertFromF32(const float* src, DType dst_type, void* dst, size_t n);

}  // namespace gqa
