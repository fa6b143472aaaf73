// fp32 GEMM of the CPU backend: y = x * w^T (+ bias), the shape of every
// linear layer (w is a weight, [out, in] row-major).
//
// Two kernels, chosen by the number of rows m of x (MatVecMaxRows()):
//  - GemmBlas: OpenBLAS cblas_sgemm, for prefill-sized m, where the GEMM is
//    compute-bound and OpenBLAS's packed, register-blocked kernel wins. Each
//    OpenMP thread runs a single-threaded sgemm on a slice of the rows of w.
//  - GemmMatVec: a hand-written OpenMP matrix-vector kernel over the rows of w
//    (AVX-512 or AVX2/FMA where the compiler targets it, portable C++
//    otherwise), for decode-sized m, where the GEMM is bound by reading w once
//    and sgemm's packing and threading overheads dominate.
// The crossover was measured by bench/cpu/gemm_dispatch_bench.cc; see
// bench/results/cpu_gemm_dispatch.md. A weight in any other dtype than f32
// (kept quantized or bf16) goes to cpu_gemm_quant.h's GemmQuant instead.
#pragma once

#include "engine/common/tensor.h"

namespace gqa::cpu {

// Gemm uses GemmMatVec for m <= MatVecMaxRows(), GemmBlas above. The bound
// depends on which kernel set OpenBLAS chose for this CPU (its corename):
// 32 for its AVX-512 kernels, 64 for AVX2, unbounded for older or fallback
// kernels, which the matrix-vector kernel beats at every m.
int MatVecMaxRows();

// All three take: x [m, k] f32 (row stride >= k), w [n, k] f32 (Gemm: or a
// compact dtype, cpu_gemm_quant.h) (row stride >= k), bias [n] f32 or empty, y [m, n] f32 (row
// stride >= n, must not overlap x or w). num_threads > 0 is the OpenMP team size. GemmBlas expects
// OpenBLAS set to one thread (CpuBackend's constructor does that); with more,
// the OpenBLAS and OpenMP threads oversubscribe the cores.
void Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y, int num_threads);
void GemmBlas(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y, int num_threads);
void GemmMatVec(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y, int num_threads);

}  // namespace gqa::cpu
