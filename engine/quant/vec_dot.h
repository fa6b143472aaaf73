// Dot products of weight rows stored in a compact dtype (ggml block formats,
// bf16) with fp32 activations: the inner loop of the CPU backend's GEMM from
// quantized or bf16 weights (backend/cpu/cpu_gemm_quant.h).
//
// A kernel first converts an activation row into its own format (for the
// integer kernels, int8 blocks with fp32 scales: block_formats.h), once per
// row and GEMM call, then dots every weight row with it, so each weight block
// is read once and decoded in registers, never expanded to fp32 in memory.
//
// Each dtype has a scalar kernel, the readable reference, and SIMD kernels
// (AVX2, AVX-512, VNNI, BF16) for the CPUs that have them, chosen at run time
// (cpu_features.h). Every SIMD kernel is tested against the scalar one.
// Thread-safe: kernels are stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/common/dtype.h"

namespace gqa::quant {

struct VecDotKernel {
  std::string_view name;  // "<dtype>/<isa>", e.g. "q4_1/avx512vnni"
  DType weight;
  // Bytes of one activation row of k elements in this kernel's format.
  size_t (*activation_row_bytes)(int64_t k);
  // x [k] fp32 -> xq (activation_row_bytes(k) bytes).
  void (*quantize_activation)(const float* x, void* xq, int64_t k);
  // sum_i w[i] * x[i] over one weight row of k elements, w in `weight`'s
  // layout and x as quantize_activation left it. k is a multiple of the
  // dtype's block size (DTypeBlockElems).
  float (*vec_dot)(const void* w_row, const void* xq, int64_t k);
  // Optional; null means the caller loops vec_dot. One weight row against n
  // activation rows (quantize_activation's rows, xq_stride bytes apart):
  //   out[i * out_stride] = vec_dot(w_row, xq + i * xq_stride, k), i < n,
  // equal bit for bit, but each weight block is loaded and decoded once for
  // several activation rows: batched decode (a GEMM with m > 1) pays the
  // weight decode once per group of rows instead of once per row.
  void (*vec_dot_rows)(const void* w_row, const void* xq, size_t xq_stride, int64_t n, int64_t k,
                       float* out, int64_t out_stride) = nullptr;
  // Optional; null means the caller loops vec_dot. n weight rows (w_stride
  // bytes apart) against one activation row:
  //   out[j] = vec_dot(w_rows + j * w_stride, xq, k), j < n,
  // equal bit for bit, each activation block loaded once for several weight
  // rows: decode (a GEMM with m = 1).
  void (*vec_dot_wrows)(const void* w_rows, size_t w_stride, int64_t n, const void* xq, int64_t k,
                        float* out) = nullptr;
  // Optional; null means quant::DequantizeRow. One weight row of k elements
  // to fp32, equal bit for bit to DequantizeRow(weight, w_row, out, k), only
  // faster: the GEMM's path for many activation rows (prefill) expands weight
  // tiles with it, then runs an fp32 GEMM (backend/cpu/cpu_gemm_quant.h).
  void (*dequantize_row)(const void* w_row, float* out, int64_t k) = nullptr;
};

// Every kernel for `weight` this CPU can run: the scalar reference first, then
// the faster ones in order. Empty when no kernel computes from `weight` (the
// caller then dequantizes the weight to fp32 at load).
std::vector<const VecDotKernel*> VecDotKernelsFor(DType weight);

// The kernel the backend uses: the fastest this CPU runs (the last of
// VecDotKernelsFor), or the scalar reference when the environment sets
// GQA_CPU_KERNELS=scalar. Null when there is none.
const VecDotKernel* BestVecDotKernel(DType weight);

namespace internal {
// One file per family of formats; each returns its kernels for `weight`
// (scalar first, then those HostCpuFeatures() allows), or {} for a dtype
// outside its family.
std::vector<const VecDotKernel*> Block32Kernels(DType weight);  // Q8_0, Q4_0, Q4_1
std::vector<const VecDotKernel*> KQuantKernels(DType weight);   // Q4_K, Q5_K, Q6_K
std::vector<const VecDotKernel*> FloatKernels(DType weight);    // BF16, F16
}  // namespace internal

}  // namespace gqa::quant
