// The readable reference of the packed GEMM (packed_blocks.h): every SIMD
// kernel must give these bits. Compiled with -ffp-contract=off
// (engine/CMakeLists.txt): the fmas below are the only fused operations.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "engine/quant/block32_kernels.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/packed_blocks_kernels.h"

namespace gqa::quant::internal {
namespace {

// Row r of a packed block against one activation block: the exact int32 sum
// of weight quant times activation quant (block_formats.h has the layout).
template <typename Packed>
int32_t BlockSum(const Packed& w, int r, const BlockQ8x32& x) {
  int32_t sum = 0;
  if constexpr (std::is_same_v<Packed, BlockQ8_0x16>) {
    for (int c = 0; c < 8; ++c) {
      for (int j = 0; j < 4; ++j) {
        const int activation = static_cast<uint8_t>(x.qs[4 * c + j]) - 128;  // stored + 128
        sum += w.qs[64 * c + 4 * r + j] * activation;
      }
    }
  } else {  // Q4: low nibbles are elements 4c + j, high ones 16 + 4c + j
    for (int c = 0; c < 4; ++c) {
      for (int j = 0; j < 4; ++j) {
        const uint8_t byte = w.qs[64 * c + 4 * r + j];
        sum += (byte & 0x0F) * x.qs[4 * c + j] + (byte >> 4) * x.qs[16 + 4 * c + j];
      }
    }
  }
  return sum;
}

template <typename Packed>
void Gemm16(const void* w_group, int64_t k, const void* xq, size_t xq_stride, int64_t m, float* y,
            int64_t y_stride) {
  const auto* w = static_cast<const Packed*>(w_group);
  const int64_t nb = k / kBlock32;
  for (int64_t i = 0; i < m; ++i) {
    const auto* x =
        reinterpret_cast<const BlockQ8x32*>(static_cast<const char*>(xq) + i * xq_stride);
    for (int r = 0; r < kPackRows; ++r) {
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const float dw = F16ToF32(w[b].d[r]);
        acc = std::fma(static_cast<float>(BlockSum(w[b], r, x[b])), dw * x[b].d, acc);
        if constexpr (std::is_same_v<Packed, BlockQ4_1x16>) {
          acc = std::fma(F16ToF32(w[b].m[r]), x[b].sum, acc);
        } else if constexpr (std::is_same_v<Packed, BlockQ4_0x16>) {
          acc = std::fma(dw, -8.0f * x[b].sum, acc);
        }
      }
      y[i * y_stride + r] = acc;
    }
  }
}

void QuantizeQ8x32Scalar(const float* x, void* xq, int64_t k) {
  QuantizeQ8x32Unsigned(QuantizeQ8x32, x, xq, k);
}

}  // namespace

void QuantizeQ8x32Unsigned(void (*quantize)(const float*, void*, int64_t), const float* x, void* xq,
                           int64_t k) {
  quantize(x, xq, k);
  auto* blocks = static_cast<BlockQ8x32*>(xq);
  for (int64_t b = 0; b < k / kBlock32; ++b) {
    for (int8_t& q : blocks[b].qs) q = static_cast<int8_t>(static_cast<uint8_t>(q) ^ 0x80);
  }
}

const PackedGemmKernel kQ8_0x16Scalar = {"q8_0x16/scalar", DType::kQ8_0x16, Q8x32RowBytes,
                                         QuantizeQ8x32Scalar, Gemm16<BlockQ8_0x16>};
const PackedGemmKernel kQ4_0x16Scalar = {"q4_0x16/scalar", DType::kQ4_0x16, Q8x32RowBytes,
                                         QuantizeQ8x32, Gemm16<BlockQ4_0x16>};
const PackedGemmKernel kQ4_1x16Scalar = {"q4_1x16/scalar", DType::kQ4_1x16, Q8x32RowBytes,
                                         QuantizeQ8x32, Gemm16<BlockQ4_1x16>};

}  // namespace gqa::quant::internal
