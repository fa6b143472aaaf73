// CpuBackend::EmbeddingLookup from tables kept compact (a GGUF's Q8_0
// token_embd, bf16 HF embeddings), strided output rows, and out-of-range ids:
// each row equals quant::DequantizeRow of the table row, exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/dequantize.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa {
namespace {

constexpr int64_t kVocab = 5, kDim = 64, kOutStride = 80;
const std::vector<int32_t> kIds = {4, 0, 2, 2, -1, 5};

// Looks `kIds` up in `table` ([kVocab, kDim] of `dtype`) and checks each row.
void CheckLookup(const void* table_data, DType dtype) {
  CpuBackend backend(2);
  const Tensor table = Tensor::Make(const_cast<void*>(table_data), dtype, {kVocab, kDim});
  const int64_t n = static_cast<int64_t>(kIds.size());
  std::vector<float> out(n * kOutStride, testing::kNaN);
  backend.EmbeddingLookup(table, kIds.data(),
                          Tensor::Make(out.data(), DType::kF32, {n, kOutStride}).Cols(0, kDim));
  std::vector<float> all(kVocab * kDim);
  quant::DequantizeRow(dtype, table_data, all.data(), kVocab * kDim);
  for (int64_t i = 0; i < n; ++i) {
    const bool valid = kIds[i] >= 0 && kIds[i] < kVocab;
    for (int64_t j = 0; j < kDim; ++j) {
      EXPECT_EQ(out[i * kOutStride + j], valid ? all[kIds[i] * kDim + j] : 0.0f) << i << "," << j;
    }
    for (int64_t j = kDim; j < kOutStride; ++j) EXPECT_TRUE(std::isnan(out[i * kOutStride + j]));
  }
}

TEST(CpuEmbeddingQuantTest, Q8_0Table) {
  std::vector<quant::BlockQ8_0> table(kVocab * kDim / 32);
  for (size_t b = 0; b < table.size(); ++b) {
    table[b].d = F32ToF16(std::ldexp(1.0f, -static_cast<int>(b % 7)));
    for (int i = 0; i < 32; ++i) table[b].qs[i] = static_cast<int8_t>(b * 3 + i - 60);
  }
  CheckLookup(table.data(), DType::kQ8_0);
}

TEST(CpuEmbeddingQuantTest, Bf16Table) {
  const std::vector<float> f = testing::RandomFloats(kVocab * kDim, 9);
  std::vector<uint16_t> table(f.size());
  ConvertFromF32(f.data(), DType::kBF16, table.data(), f.size());
  CheckLookup(table.data(), DType::kBF16);
}

}  // namespace
}  // namespace gqa
