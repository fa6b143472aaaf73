#include "engine/gguf/dequantize.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/gguf/ggml_types.h"
#include "engine/quant/dequantize.h"

// The types the engine keeps in memory (f32, f16, bf16 and the six block
// formats of engine/common/dtype.h) are decoded by quant::DequantizeRow, their
// one definition; this file adds the GGUF-only block types (Q5_0, Q5_1, Q2_K,
// Q3_K), which the loader always expands.
//
// Exactness: gguf-py computes every product and sum as a separate fp32
// operation; a fused multiply-add would round once instead of twice, so
// gqa_gguf is compiled with -ffp-contract=off (engine/CMakeLists.txt).

namespace gqa::gguf {
namespace {

constexpr int kQK = 256;  // QK_K: elements per K-quant super-block

float Half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return F16ToF32(h);
}

// Q5_0: f16 d, u32 qh (bit i = 5th bit of element i), nibbles as Q4_0;
// x = d * (q - 16).
void DequantQ5_0(const uint8_t* b, float* y) {
  const float d = Half(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* qs = b + 6;
  for (int i = 0; i < 16; ++i) {
    const int lo = (qs[i] & 0x0F) | (((qh >> i) & 1) << 4);
    const int hi = (qs[i] >> 4) | (((qh >> (i + 16)) & 1) << 4);
    y[i] = d * static_cast<float>(lo - 16);
    y[i + 16] = d * static_cast<float>(hi - 16);
  }
}

// Q5_1: f16 d, f16 m, u32 qh, nibbles; x = d * q + m.
void DequantQ5_1(const uint8_t* b, float* y) {
  const float d = Half(b), m = Half(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* qs = b + 8;
  for (int i = 0; i < 16; ++i) {
    const int lo = (qs[i] & 0x0F) | (((qh >> i) & 1) << 4);
    const int hi = (qs[i] >> 4) | (((qh >> (i + 16)) & 1) << 4);
    y[i] = d * static_cast<float>(lo) + m;
    y[i + 16] = d * static_cast<float>(hi) + m;
  }
}

// Q2_K: scales[16] (low nibble scale, high nibble min), qs[64], f16 d, f16
// dmin. Element e = h*128 + k*32 + l (h < 2, k < 4, l < 32) is bits 2k..2k+1
// of qs[h*32 + l], in sub-block e / 16; x = d*sc * q - dmin*m.
void DequantQ2_K(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = Half(b + 80), dmin = Half(b + 82);
  for (int e = 0; e < kQK; ++e) {
    const int h = e / 128, k = (e / 32) % 4, l = e % 32, s = e / 16;
    const float dl = d * static_cast<float>(scales[s] & 0x0F);
    const float ml = dmin * static_cast<float>(scales[s] >> 4);
    y[e] = dl * static_cast<float>((qs[h * 32 + l] >> (2 * k)) & 3) - ml;
  }
}

// Q3_K: hmask[32], qs[64], scales[12] (16 6-bit signed scales), f16 d.
// Element e = h*128 + k*32 + l: 2 low bits from qs as in Q2_K, high bit
// (inverted: set means no offset) bit e / 32 of hmask[l];
// x = d * (sc - 32) * (q - 4 * !hbit).
void DequantQ3_K(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const uint8_t* sc = b + 96;
  const float d = Half(b + 108);
  float dl[16];
  for (int i = 0; i < 16; ++i) {
    const int lo = i < 8 ? (sc[i] & 0x0F) : (sc[i - 8] >> 4);
    const int hi = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
    dl[i] = d * static_cast<float>(static_cast<int8_t>(lo | (hi << 4)) - 32);
  }
  for (int e = 0; e < kQK; ++e) {
    const int h = e / 128, k = (e / 32) % 4, l = e % 32;
    const int ql = (qs[h * 32 + l] >> (2 * k)) & 3;
    const int hbit = (hmask[l] >> (e / 32)) & 1;
    y[e] = dl[e / 16] * static_cast<float>(ql - ((hbit ^ 1) << 2));
  }
}

using BlockFn = void (*)(const uint8_t* block, float* out);

BlockFn BlockFunction(GgmlType type) {
  switch (type) {
    case GgmlType::kQ5_0:
      return DequantQ5_0;
    case GgmlType::kQ5_1:
      return DequantQ5_1;
    case GgmlType::kQ2_K:
      return DequantQ2_K;
    case GgmlType::kQ3_K:
      return DequantQ3_K;
    default:
      return nullptr;
  }
}

absl::Status CheckArgs(GgmlType type, int64_t n) {
  if (!CanDequantize(type)) {
    return absl::UnimplementedError(
        absl::StrCat("dequantization of ggml type ", GgmlTypeName(type), " is not supported"));
  }
  const int64_t block = FindGgmlType(static_cast<uint32_t>(type))->block_size;
  if (n < 0 || n % block != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot dequantize ", n, " elements of ",
                                                   GgmlTypeName(type), ": not a multiple of ",
                                                   block));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<DType> GgmlTypeToDType(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return DType::kF32;
    case GgmlType::kF16:
      return DType::kF16;
    case GgmlType::kBF16:
      return DType::kBF16;
    case GgmlType::kQ8_0:
      return DType::kQ8_0;
    case GgmlType::kQ4_0:
      return DType::kQ4_0;
    case GgmlType::kQ4_1:
      return DType::kQ4_1;
    case GgmlType::kQ4_K:
      return DType::kQ4_K;
    case GgmlType::kQ5_K:
      return DType::kQ5_K;
    case GgmlType::kQ6_K:
      return DType::kQ6_K;
    default:
      return std::nullopt;
  }
}

bool CanDequantize(GgmlType type) {
  return GgmlTypeToDType(type).has_value() || BlockFunction(type) != nullptr;
}

absl::Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  if (absl::Status s = CheckArgs(type, n); !s.ok()) return s;
  if (std::optional<DType> dtype = GgmlTypeToDType(type)) {
    quant::DequantizeRow(*dtype, src, dst, n);
    return absl::OkStatus();
  }
  const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(type));
  const BlockFn fn = BlockFunction(type);
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; i += info->block_size, b += info->type_size) fn(b, dst + i);
  return absl::OkStatus();
}

absl::Status DequantizeRowTo(GgmlType type, const void* src, DType dst_type, void* dst, int64_t n) {
  if (dst_type == DType::kF32) return DequantizeRow(type, src, static_cast<float*>(dst), n);
  if (absl::Status s = CheckArgs(type, n); !s.ok()) return s;
  // Through a small fp32 buffer, a whole number of blocks at a time.
  const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(type));
  constexpr int64_t kChunk = 1024;  // a multiple of every block size (1, 32, 256)
  float buf[kChunk];
  const uint8_t* s = static_cast<const uint8_t*>(src);
  uint8_t* d = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    if (absl::Status st = DequantizeRow(type, s, buf, m); !st.ok()) return st;
    ConvertFromF32(buf, dst_type, d, m);
    s += m / info->block_size * info->type_size;
    d += m * DTypeSize(dst_type);
  }
  return absl::OkStatus();
}

}  // namespace gqa::gguf
