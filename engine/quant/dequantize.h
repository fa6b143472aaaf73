// Dequantization of weight rows stored in any DType to fp32: the readable
// definition of every format the engine keeps in memory (block_formats.h has
// the byte layouts), and the one routine that expands them: the GGUF reader
// (gguf/dequantize.h), DeviceWeights' conversion of weights a backend does not
// compute from, the CPU backend's embedding lookup and its prefill GEMM
// (backend/cpu/cpu_gemm_quant.h) all call it.
//
// Bit-exact with gguf-py's `gguf.quants.dequantize`: each element is computed
// in fp32 with the same operations in the same order, one rounding each
// (gqa_quant is built with -ffp-contract=off, so no FMA fuses them).
// Thread-safe: no state.
#pragma once

#include <cstdint>

#include "engine/common/dtype.h"

namespace gqa::quant {

// Decodes n elements of `type` at src into fp32 at dst. n must be a multiple
// of DTypeBlockElems(type); src holds DTypeBytes(type, n) bytes. Not for the
// packed dtypes (packed_blocks.h), whose rows are not contiguous.
void DequantizeRow(DType type, const void* src, float* dst, int64_t n);

}  // namespace gqa::quant
