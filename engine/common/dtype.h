// Element types of weights, activations and KV cache, and the host-side
// conversions between them. bf16/f16 are stored as raw uint16_t bits.
//
// The plain types (f32, f16, bf16) have one element per DTypeSize bytes. The
// block-quantized types are ggml's weight formats, kept as the GGUF file
// stores them so the CPU backend can compute from them (engine/quant): a row
// of n elements is n / DTypeBlockElems blocks of DTypeBlockBytes bytes, and a
// view may only start at a block boundary. They are weights only: never
// activations or KV cache, and ConvertToF32 / ConvertFromF32 take plain types
// only (engine/quant dequantizes).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace gqa {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  // ggml block formats (engine/quant/block_formats.h has the layouts).
  kQ8_0,  // 32 elements in 34 bytes
  kQ4_0,  // 32 elements in 18 bytes
  kQ4_1,  // 32 elements in 20 bytes
  kQ4_K,  // 256 elements in 144 bytes
  kQ5_K,  // 256 elements in 176 bytes
  kQ6_K,  // 256 elements in 210 bytes
  // The CPU GEMM's interleaved layout of Q8_0 / Q4_0 / Q4_1 blocks: 16 rows'
  // block b side by side (engine/quant/packed_blocks.h). Same bytes per element
  // as the row-major type, but a row is not contiguous: a view may only start
  // at a multiple of 16 rows, and only the CPU backend reads it.
  kQ4_0x16,
  kQ4_1x16,
  kQ8_0x16,
};

inline bool IsQuantized(DType t) { return t >= DType::kQ8_0; }
// Elements per block: 1 for the plain types, 32 or 256 for the quantized ones.
int64_t DTypeBlockElems(DType t);
// Bytes per block (the element size for the plain types).
size_t DTypeBlockBytes(DType t);
// Bytes of n elements (n a multiple of DTypeBlockElems(t)).
inline size_t DTypeBytes(DType t, int64_t n) {
  return static_cast<size_t>(n / DTypeBlockElems(t)) * DTypeBlockBytes(t);
}
// Bytes per element of a plain type.
inline size_t DTypeSize(DType t) {
  assert(!IsQuantized(t));
  return t == DType::kF32 ? 4 : 2;
}
// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q4_K", "q5_K", "q6_K" (ggml's
// names), "q4_0x16", "q4_1x16", "q8_0x16".
std::string_view DTypeName(DType t);
// The plain types only (a quantized type is what a file holds, never asked for):
// accepts "f32"/"float32"/"fp32", "f16"/"float16"/"fp16", "bf16"/"bfloat16".
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

// Plain types only. Converts n elements of `src_type` at src to fp32 at dst.
void ConvertToF32(DType src_type, const void* src, float* dst, size_t n);
// Plain types only. Converts n fp32 elements to `dst_type` at dst.
void ConvertFromF32(const float* src, DType dst_type, void* dst, size_t n);

}  // namespace gqa
