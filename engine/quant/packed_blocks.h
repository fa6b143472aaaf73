// The CPU backend's interleaved layout of Q8_0 / Q4_0 / Q4_1 weights (DType
// kQ8_0x16, kQ4_0x16, kQ4_1x16: block b of 16 rows side by side,
// block_formats.h), the GEMM kernels that compute from it, and the row
// reader the embedding lookup uses.
//
// Why a second layout: the row-major kernels (vec_dot.h) dot one weight row at
// a time, so each block's 8 int32 partial sums must be spread, converted and
// scaled on their own, per activation row: more shuffle and scale work than
// byte products (~38 GMAC/s on one core, bench/results/cpu_gemm_quant.md).
// Here one 512-bit VPDPBUSD multiplies 4 quants of each of the 16 rows by the
// same 4 activation bytes (broadcast); after 8 of them each int32 lane holds one
// row's whole block sum, which one FMA scales by the 16 rows' scales into 16
// outputs at once, with no reduction across lanes. A block's unpacked weight
// vectors then serve up to 8 activation rows, so the same kernel is the GEMM
// for decode (m = 1), batched decode and prefill (any m).
// Measured in bench/results/cpu_gemm_quant.md.
//
// Activations are BlockQ8x32 rows (block32_kernels.h's QuantizeQ8x32); for
// Q8_0 with every quant stored plus 128 (an unsigned byte, what VPDPBUSD's
// first operand takes; the signed weights are the second, and the kernel
// subtracts 128 * sum(w)). Per output (weight row r, activation row i) every
// kernel computes, block b by block in order, from acc = 0:
//   acc = fma(float(isum_b), dw_b * dx_b, acc)   isum_b = sum_e q(w)_e * q(x)_e, exact int32
//   acc = fma(m_b, sum_b, acc)                    Q4_1
//   acc = fma(dw_b, -8 * sum_b, acc)              Q4_0 (elements are dw * (nibble - 8))
// so the scalar kernel and every SIMD kernel give the same bits, for every
// row of every batch size (tested): a sequence's logits do not depend on what
// it was batched with. They differ from the row-major kernels by rounding.
// Thread-safe: kernels are stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/common/dtype.h"

namespace gqa::quant {

// Rows interleaved per group: a packed matrix has a multiple of 16 rows.
inline constexpr int kPackRows = 16;

// kQ8_0 -> kQ8_0x16, kQ4_0 -> kQ4_0x16, kQ4_1 -> kQ4_1x16; any other dtype
// has no packed layout and is returned as it is.
DType PackedDType(DType row_major);
// The inverse: kQ4_1x16 -> kQ4_1 and so on; any other dtype as it is.
DType RowMajorDType(DType packed);

// rows x cols of `row_major` (rows a multiple of kPackRows, cols of 32),
// row-major at src, to PackedDType(row_major)'s layout at dst: the same number
// of bytes, every block's bytes moved, none changed.
void PackRows(DType row_major, const void* src, void* dst, int64_t rows, int64_t cols);

// Row `row` of a packed matrix of `cols` columns at `matrix`, back in the
// row-major layout: DTypeBytes(RowMajorDType(packed), cols) bytes at dst,
// the blocks PackRows took from that row.
void UnpackRow(DType packed, const void* matrix, int64_t row, int64_t cols, void* dst);

struct PackedGemmKernel {
  std::string_view name;  // "<dtype>/<isa>", e.g. "q4_1x16/avx512vnni"
  DType weight;           // kQ8_0x16, kQ4_0x16 or kQ4_1x16
  // Bytes of one activation row of k elements (k / 32 BlockQ8x32).
  size_t (*activation_row_bytes)(int64_t k);
  // x [k] fp32 -> one activation row (the bytes of block32_kernels.h's
  // QuantizeQ8x32; for Q8_0 every quant byte plus 128).
  void (*quantize_activation)(const float* x, void* xq, int64_t k);
  // One group of 16 weight rows (k / 32 blocks of `weight`, at w_group)
  // against m activation rows (xq_stride bytes apart):
  //   y[i * y_stride + r] = dot(weight row r, activation row i), r < 16, i < m.
  void (*gemm16)(const void* w_group, int64_t k, const void* xq, size_t xq_stride, int64_t m,
                 float* y, int64_t y_stride);
};

// Every kernel for `packed` this CPU runs: the scalar reference first, then
// the SIMD ones. Empty for a dtype that is not packed.
std::vector<const PackedGemmKernel*> PackedGemmKernelsFor(DType packed);

// The SIMD kernel the backend uses for `packed`, or null when this CPU has
// none or the environment sets GQA_CPU_KERNELS=scalar: the backend then keeps
// the row-major layout (the scalar packed kernel is the tests' reference, no
// faster than the row-major kernels).
const PackedGemmKernel* BestPackedGemmKernel(DType packed);

}  // namespace gqa::quant
