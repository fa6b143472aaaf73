// GEMM of the CPU backend from a weight kept in a compact dtype (a ggml block
// format or bf16/f16, engine/common/dtype.h): y = x * w^T (+ bias), x and y
// fp32, w [n, k] in the dtype of `kernel` (engine/quant/vec_dot.h).
//
// Two paths, chosen by the number of rows m of x (QuantDotMaxRows(dtype)):
//  - GemmQuantDot, for decode and batched decode: each x row is converted once
//    to the kernel's activation format (int8 blocks for the integer kernels)
//    into a reused scratch buffer; then OpenMP threads walk tiles of weight
//    rows, and each weight row is dotted with every x row while it is in L1,
//    so w is read from memory once per call, in its compact form. Bound by
//    reading w: the bytes per token are what the file stores.
//  - GemmQuantTiled, for prefill: each thread dequantizes a tile of its weight
//    rows to fp32 once (quant::DequantizeRow into a thread-local buffer) and
//    runs a single-threaded cblas_sgemm of all m rows of x against it. The
//    decode cost is paid once per weight row, not once per x row, and the
//    multiply is OpenBLAS's compute-bound kernel.
// A Q8_0 / Q4_0 / Q4_1 weight that DeviceWeights packed for this backend
// (Backend::MatrixLayoutDType: 16 rows interleaved, engine/quant/packed_blocks.h)
// takes a third path at every m, GemmQuantPacked: the x rows quantized as for
// GemmQuantDot, then each thread runs the packed kernel over its groups of 16
// weight rows against chunks of x rows that stay in cache.
// The crossover was measured by bench/cpu/gemm_quant_bench.cc
// (bench/results/cpu_gemm_quant.md).
//
// Scratch buffers (the quantized x rows, the dequantized tiles) are
// thread_local and grow to the largest call, so the steady state allocates
// nothing. Threads as cpu_gemm.h: num_threads > 0 is the OpenMP team size;
// OpenBLAS must be set to one thread (CpuBackend does that).
#pragma once

#include "engine/common/tensor.h"
#include "engine/quant/packed_blocks.h"
#include "engine/quant/vec_dot.h"

namespace gqa::cpu {

// GemmQuantDot for m <= QuantDotMaxRows(w.dtype), GemmQuantTiled above.
int QuantDotMaxRows(DType weight);

// All take: x [m, k] f32 (row stride >= k), w [n, k] of kernel.weight's dtype
// (row stride >= k, k a multiple of its block size), bias [n] f32 or empty,
// y [m, n] f32 (row stride >= n, not overlapping x).
void GemmQuant(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
               const quant::VecDotKernel& kernel, int num_threads);
void GemmQuantDot(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
                  const quant::VecDotKernel& kernel, int num_threads);
// Needs no kernel: any dtype quant::DequantizeRow reads.
void GemmQuantTiled(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
                    int num_threads);

// w [n, k] in kernel.weight's packed dtype (n a multiple of 16); otherwise as
// GemmQuant.
void GemmQuantPacked(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y,
                     const quant::PackedGemmKernel& kernel, int num_threads);

// The packed kernel Gemm uses for `packed` (quant::BestPackedGemmKernel,
// looked up once per dtype for the process); null when there is none.
const quant::PackedGemmKernel* PackedGemmKernelFor(DType packed);

// The kernel Gemm uses for `weight` (quant::BestVecDotKernel, looked up once
// per dtype for the process); null when there is none.
const quant::VecDotKernel* GemmKernelFor(DType weight);

}  // namespace gqa::cpu
