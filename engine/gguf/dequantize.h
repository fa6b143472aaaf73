// Dequantization of ggml tensor rows: the one interface through which the
// engine reads GGUF tensor data of any supported type. Bit-exact with the
// reference `gguf.quants.dequantize` (gguf-py): each element is computed in
// fp32 with the same operations in the same order, one rounding each (gqa_gguf
// is built with -ffp-contract=off so no FMA fuses them).
//
// The formats the engine keeps in memory are defined once, in
// engine/quant/dequantize.h; this adds the GGUF-only ones. Thread-safe: no state.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "engine/common/dtype.h"
#include "engine/gguf/gguf_file.h"

namespace gqa::gguf {

// The engine's DType for a ggml type it can keep in memory (F32, F16, BF16,
// Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K); nullopt for any other.
std::optional<DType> GgmlTypeToDType(GgmlType type);

// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool CanDequantize(GgmlType type);

// Decodes n elements (a multiple of the type's block size) stored as `type`
// at src into fp32 at dst. An error for a type CanDequantize rejects or a
// ragged n; src holds n / block_size * type_size bytes (ggml_types.h).
absl::Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);

// The same, converted to `dst_type` (fp32, or rounded to nearest even to
// f16/bf16 as engine/common/dtype.h does) at dst.
absl::Status DequantizeRowTo(GgmlType type, const void* src, DType dst_type, void* dst, int64_t n);

}  // namespace gqa::gguf
