// UploadConcatenated / FusedMatrixDType / UploadWeights on the CPU backend:
// a matrix keeps its dtype, byte for byte, when every fused part has it and
// the backend computes from it; otherwise it is converted (quantized parts
// through quant::DequantizeRow) to what the backend asks for; norms stay f32.
#include "engine/model/device_weights.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/model/dummy_weights.h"
#include "engine/quant/block_formats.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/packed_blocks.h"
#include "engine/quant/vec_dot.h"

namespace gqa {
namespace {

// rows x 64 Q8_0 weights (2 blocks a row): d = 2^-(r+1), qs = r + i - 40.
std::vector<quant::BlockQ8_0> Q8Rows(int rows) {
  std::vector<quant::BlockQ8_0> b(rows * 2);
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < 2; ++j) {
      b[r * 2 + j].d = F32ToF16(std::ldexp(1.0f, -(r + 1)));
      for (int i = 0; i < 32; ++i) b[r * 2 + j].qs[i] = static_cast<int8_t>(r + i + j - 40);
    }
  }
  return b;
}

std::vector<float> Dequantized(const Tensor& t) {
  std::vector<float> out(t.numel());
  quant::DequantizeRow(t.dtype, t.data, out.data(), t.numel());
  return out;
}

bool HasKernel(DType t) { return quant::BestVecDotKernel(t) != nullptr; }

TEST(DeviceWeightsTest, CpuAutoKeepsQuantizedPartsByteForByte) {
  if (!HasKernel(DType::kQ8_0)) GTEST_SKIP() << "no q8_0 kernel yet";
  CpuBackend backend(1, CpuWeights::kAuto);
  std::vector<quant::BlockQ8_0> a = Q8Rows(3), b = Q8Rows(2);
  const Tensor ta = Tensor::Make(a.data(), DType::kQ8_0, {3, 64});
  const Tensor tb = Tensor::Make(b.data(), DType::kQ8_0, {2, 64});
  ASSERT_EQ(FusedMatrixDType(backend, {ta, tb}), DType::kQ8_0);
  absl::StatusOr<DeviceTensor> up = UploadConcatenated(backend, {ta, tb}, DType::kQ8_0);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->view.dtype, DType::kQ8_0);
  EXPECT_EQ(up->view.rows(), 5);
  EXPECT_EQ(up->view.cols(), 64);
  EXPECT_EQ(up->buffer.bytes(), 5 * 2 * sizeof(quant::BlockQ8_0));
  EXPECT_EQ(std::memcmp(up->view.data, a.data(), 3 * 68), 0);
  EXPECT_EQ(std::memcmp(static_cast<char*>(up->view.data) + 3 * 68, b.data(), 2 * 68), 0);
}

// A Q4_1 matrix only Gemm reads takes the backend's packed layout (the bytes
// of quant::PackRows) where a SIMD kernel computes from it, else stays as it is.
TEST(DeviceWeightsTest, PackMatrixRewritesQ4MatricesIntoTheBackendsLayout) {
  CpuBackend backend(1, CpuWeights::kAuto);
  std::vector<quant::BlockQ4_1> rows(32 * 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].d = F32ToF16(0.01f * static_cast<float>(i + 1));
    rows[i].m = F32ToF16(-0.5f);
    for (int j = 0; j < 16; ++j) rows[i].qs[j] = static_cast<uint8_t>(i * 7 + j);
  }
  const Tensor t = Tensor::Make(rows.data(), DType::kQ4_1, {32, 64});
  absl::StatusOr<DeviceTensor> up = UploadConcatenated(backend, {t}, DType::kQ4_1);
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_TRUE(PackMatrix(backend, *up).ok());
  const DType want = backend.MatrixLayoutDType(DType::kQ4_1, 32);
  EXPECT_EQ(up->view.dtype, want);
  EXPECT_EQ(up->view.rows(), 32);
  std::vector<char> expect(rows.size() * sizeof(quant::BlockQ4_1));
  if (want == DType::kQ4_1) {
    std::memcpy(expect.data(), rows.data(), expect.size());
  } else {
    EXPECT_EQ(want, DType::kQ4_1x16);
    quant::PackRows(DType::kQ4_1, rows.data(), expect.data(), 32, 64);
  }
  EXPECT_EQ(std::memcmp(up->view.data, expect.data(), expect.size()), 0);
}

TEST(DeviceWeightsTest, CpuF32DequantizesExactly) {
  CpuBackend backend(1, CpuWeights::kF32);
  std::vector<quant::BlockQ8_0> a = Q8Rows(3);
  const Tensor ta = Tensor::Make(a.data(), DType::kQ8_0, {3, 64});
  ASSERT_EQ(FusedMatrixDType(backend, {ta}), DType::kF32);
  absl::StatusOr<DeviceTensor> up = UploadConcatenated(backend, {ta}, DType::kF32);
  ASSERT_TRUE(up.ok()) << up.status();
  const std::vector<float> want = Dequantized(ta);
  EXPECT_EQ(std::vector<float>(up->view.as<float>(), up->view.as<float>() + 3 * 64), want);
  EXPECT_EQ(want[0], std::ldexp(1.0f, -1) * -40);  // row 0, d = 1/2, qs[0] = -40
}

TEST(DeviceWeightsTest, MixedDTypesFallBackToActivationDType) {
  if (!HasKernel(DType::kQ8_0) || !HasKernel(DType::kQ4_1)) GTEST_SKIP() << "kernels missing";
  CpuBackend backend(1, CpuWeights::kAuto);
  std::vector<quant::BlockQ8_0> a = Q8Rows(1);
  std::vector<quant::BlockQ4_1> b(2);
  for (quant::BlockQ4_1& blk : b) {
    blk.d = F32ToF16(0.5f);
    blk.m = F32ToF16(-1.0f);
    for (uint8_t& q : blk.qs) q = 0x71;
  }
  const Tensor ta = Tensor::Make(a.data(), DType::kQ8_0, {1, 64});
  const Tensor tb = Tensor::Make(b.data(), DType::kQ4_1, {1, 64});
  EXPECT_EQ(FusedMatrixDType(backend, {ta, tb}), DType::kF32);
  absl::StatusOr<DeviceTensor> up = UploadConcatenated(backend, {ta, tb}, DType::kF32);
  ASSERT_TRUE(up.ok()) << up.status();
  std::vector<float> want = Dequantized(ta);
  const std::vector<float> second = Dequantized(tb);
  want.insert(want.end(), second.begin(), second.end());
  EXPECT_EQ(std::vector<float>(up->view.as<float>(), up->view.as<float>() + 128), want);
  EXPECT_EQ(second[0], 0.5f * 1 - 1.0f);   // low nibble 1
  EXPECT_EQ(second[16], 0.5f * 7 - 1.0f);  // high nibble 7
}

TEST(DeviceWeightsTest, NoConversionToAQuantizedType) {
  CpuBackend backend(1);
  std::vector<float> f(64, 1.0f);
  const Tensor t = Tensor::Make(f.data(), DType::kF32, {1, 64});
  EXPECT_FALSE(UploadConcatenated(backend, {t}, DType::kQ8_0).ok());
}

TEST(DeviceWeightsTest, Bf16MatricesKeptOrConvertedNormsF32) {
  ModelConfig c;
  c.dim = 64;
  c.hidden_dim = 128;
  c.n_layers = 1;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.vocab_size = 32;
  c.max_seq_len = 16;
  c.tie_word_embeddings = true;
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, DType::kBF16, 5);
  ASSERT_TRUE(w.ok()) << w.status();
  const bool kept = HasKernel(DType::kBF16);
  for (CpuWeights mode : {CpuWeights::kAuto, CpuWeights::kF32}) {
    CpuBackend backend(1, mode);
    std::ostringstream log;
    absl::StatusOr<DeviceWeights> d = UploadWeights(*w, backend, &log);
    ASSERT_TRUE(d.ok()) << d.status();
    const DType want = mode == CpuWeights::kAuto && kept ? DType::kBF16 : DType::kF32;
    EXPECT_EQ(d->layers[0].wqkv.view.dtype, want);
    EXPECT_EQ(d->layers[0].w_down.view.dtype, want);
    EXPECT_EQ(d->embed.view.dtype, want);
    EXPECT_EQ(d->layers[0].attn_norm.view.dtype, DType::kF32);
    EXPECT_EQ(d->final_norm.view.dtype, DType::kF32);
    // One line for the one dtype that fell back, none when nothing did.
    EXPECT_EQ(log.str(), want == DType::kF32
                             ? "weights: bf16 matrices converted to f32 for the cpu backend\n"
                             : "");
    // The same numbers either way: bf16 -> f32 is exact.
    std::vector<float> got(d->layers[0].wo.view.numel());
    quant::DequantizeRow(want, d->layers[0].wo.view.data, got.data(), got.size());
    std::vector<float> host(w->layers[0].wo.numel());
    ConvertToF32(DType::kBF16, w->layers[0].wo.data, host.data(), host.size());
    EXPECT_EQ(got, host);
  }
}

}  // namespace
}  // namespace gqa
