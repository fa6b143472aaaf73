// The CUDA backend's row-wise ops and GEMM against the CPU backend, on fresh
// random inputs (rounded to the tested dtype first, so both backends see the
// same numbers), with NaN-poisoned outputs, odd sizes and strided views.
// Skipped where the CUDA runtime sees no device.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/cuda/cuda_test_util.h"

namespace gqa::testing {
namespace {

class CudaOpsTest : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    GQA_REQUIRE_CUDA_DEVICE();
    dtype_ = GetParam();
    cuda_ = MakeTestCudaBackend(dtype_);
    ASSERT_NE(cuda_, nullptr);
  }
  void TearDown() override {
    if (cuda_) {
      EXPECT_TRUE(cuda_->status().ok()) << cuda_->status();
    }
  }
  Tensor Host(std::vector<float>& v, int64_t rows, int64_t cols, int64_t stride) {
    return Tensor::Make(v.data(), DType::kF32, {rows, stride}).Cols(0, cols);
  }

  DType dtype_ = DType::kF32;
  std::unique_ptr<Backend> cuda_;
  std::unique_ptr<Backend> cpu_ = MakeCpuBackend(2);
};

TEST_P(CudaOpsTest, NameDtypeAndCopyRoundTrip) {
  EXPECT_EQ(cuda_->name(), "cuda");
  EXPECT_EQ(cuda_->activation_dtype(), dtype_);
  const std::vector<float> src = RoundTo(RandomFloats(1001, 1), dtype_);
  DeviceArray a(*cuda_, dtype_, src.size());
  a.Upload(src);
  EXPECT_EQ(a.Download(), src);
}

TEST_P(CudaOpsTest, EmbeddingLookupMatchesCpuAndZeroesBadIds) {
  const int vocab = 37, dim = 19;
  const std::vector<int32_t> ids = {5, 0, 36, 5, 17, -1, 37, 30};
  const int n = static_cast<int>(ids.size());
  std::vector<float> table = RoundTo(RandomFloats(vocab * dim, 2), dtype_);
  // Tables in the activation dtype (as the model uploads them) and in fp32.
  for (DType table_dtype : {dtype_, DType::kF32}) {
    DeviceArray d_table(*cuda_, table_dtype, table.size()), d_out(*cuda_, dtype_, n * dim);
    DeviceArray d_ids = DeviceArray::FromInts(*cuda_, ids);
    d_table.Upload(table);
    d_out.Poison();
    cuda_->EmbeddingLookup(d_table.View2(vocab, dim), d_ids.as<int32_t>(), d_out.View2(n, dim));
    std::vector<float> expected(n * dim, kNaN);
    cpu_->EmbeddingLookup(Host(table, vocab, dim, dim), ids.data(), Host(expected, n, dim, dim));
    EXPECT_EQ(d_out.Download(), RoundTo(expected, dtype_)) << DTypeName(table_dtype);
  }
}

TEST_P(CudaOpsTest, RmsNormAndAddRmsNormMatchCpu) {
  // Odd and aligned widths, strided rows, one row and many.
  for (auto [n, dim, stride] : {std::tuple{1, 67, 67}, std::tuple{5, 4096, 4104},
                                std::tuple{70, 1031, 1040}, std::tuple{3, 8, 8}}) {
    std::vector<float> x = RoundTo(RandomFloats(n * stride, 4, -3.0f, 3.0f), dtype_);
    std::vector<float> res = RoundTo(RandomFloats(n * stride, 5, -3.0f, 3.0f), dtype_);
    std::vector<float> w = RoundTo(RandomFloats(dim, 6), dtype_);
    DeviceArray d_x(*cuda_, dtype_, x.size()), d_res(*cuda_, dtype_, res.size()),
        d_w(*cuda_, dtype_, dim), d_out(*cuda_, dtype_, x.size());
    d_x.Upload(x);
    d_res.Upload(res);
    d_w.Upload(w);
    d_out.Poison();
    cuda_->RmsNorm(d_x.View(n, dim, stride), d_w.View1(dim), 1e-5f, d_out.View(n, dim, stride));
    std::vector<float> ref(x.size(), kNaN);
    cpu_->RmsNorm(Host(x, n, dim, stride), Tensor::Make(w.data(), DType::kF32, {dim}), 1e-5f,
                  Host(ref, n, dim, stride));
    const std::vector<float> got = Dense(d_out.Download(), n, dim, stride);
    EXPECT_FALSE(HasNaN(got));
    EXPECT_LT(RelativeError(got, ToDouble(Dense(ref, n, dim, stride))), Tolerance(dtype_))
        << "RmsNorm " << n << "x" << dim;

    d_out.Poison();
    cuda_->AddRmsNorm(d_res.View(n, dim, stride), d_x.View(n, dim, stride), d_w.View1(dim), 1e-6f,
                      d_out.View(n, dim, stride));
    std::vector<float> ref_res = res;
    cpu_->AddRmsNorm(Host(ref_res, n, dim, stride), Host(x, n, dim, stride),
                     Tensor::Make(w.data(), DType::kF32, {dim}), 1e-6f, Host(ref, n, dim, stride));
    const std::vector<float> got_res = Dense(d_res.Download(), n, dim, stride);
    // The residual is stored rounded to the dtype, exactly as its rounded sum.
    EXPECT_EQ(got_res, RoundTo(Dense(ref_res, n, dim, stride), dtype_));
    const std::vector<float> got_add = Dense(d_out.Download(), n, dim, stride);
    EXPECT_FALSE(HasNaN(got_add));
    EXPECT_LT(RelativeError(got_add, ToDouble(Dense(ref, n, dim, stride))), Tolerance(dtype_))
        << "AddRmsNorm " << n << "x" << dim;
  }
}

TEST_P(CudaOpsTest, SiluMulMatchesCpu) {
  for (auto [n, hidden] : {std::pair{1, 13}, std::pair{9, 77}, std::pair{33, 1536}}) {
    const int stride = 2 * hidden + 8;  // gate_up may be a column view
    std::vector<float> gu = RoundTo(RandomFloats(n * stride, 9, -6.0f, 6.0f), dtype_);
    DeviceArray d_gu(*cuda_, dtype_, gu.size()), d_out(*cuda_, dtype_, n * hidden);
    d_gu.Upload(gu);
    d_out.Poison();
    cuda_->SiluMul(d_gu.View(n, 2 * hidden, stride), d_out.View2(n, hidden));
    std::vector<float> ref(n * hidden, kNaN);
    cpu_->SiluMul(Host(gu, n, 2 * hidden, stride), Host(ref, n, hidden, hidden));
    const std::vector<float> got = d_out.Download();
    EXPECT_FALSE(HasNaN(got));
    EXPECT_LT(RelativeError(got, ToDouble(ref)), Tolerance(dtype_)) << n << "x" << hidden;
  }
}

TEST_P(CudaOpsTest, GatherRowsCopiesExactly) {
  for (auto [cols, stride] : {std::pair{7, 10}, std::pair{64, 64}, std::pair{33, 40}}) {
    const int rows = 11;
    std::vector<float> x = RoundTo(RandomFloats(rows * stride, 10), dtype_);
    const std::vector<int32_t> picks = {10, 0, 3, 3, 7};
    const int m = static_cast<int>(picks.size());
    DeviceArray d_x(*cuda_, dtype_, x.size()), d_out(*cuda_, dtype_, m * cols);
    DeviceArray d_picks = DeviceArray::FromInts(*cuda_, picks);
    d_x.Upload(x);
    d_out.Poison();
    cuda_->GatherRows(d_x.View(rows, cols, stride), d_picks.as<int32_t>(), d_out.View2(m, cols));
    const std::vector<float> got = d_out.Download();
    for (int i = 0; i < m; ++i)
      for (int c = 0; c < cols; ++c) ASSERT_EQ(got[i * cols + c], x[picks[i] * stride + c]);
  }
}

TEST_P(CudaOpsTest, ArgMaxRowsMatchesCpu) {
  // f32 logits whatever the activation dtype; tokens exact (ties to the
  // lowest index), logprobs to fp32 rounding of a 128k-term sum.
  for (const int64_t vocab : {12, 1001, 32000, 128256}) {
    int rows = 0;
    const std::vector<float> dense = ArgMaxTestRows(vocab, &rows, 30);
    const int64_t stride = vocab + 5;
    std::vector<float> logits(rows * stride, 1.0e30f);  // the padding must not be read
    for (int i = 0; i < rows; ++i)
      std::copy_n(dense.begin() + i * vocab, vocab, logits.begin() + i * stride);
    DeviceArray d_logits(*cuda_, DType::kF32, logits.size());
    d_logits.Upload(logits);
    const std::vector<int32_t> poison_tokens(rows, -7);
    DeviceArray d_tokens = DeviceArray::FromInts(*cuda_, poison_tokens);
    DeviceArray d_logprobs(*cuda_, DType::kF32, rows);
    d_logprobs.Poison();
    cuda_->ArgMaxRows(d_logits.View(rows, vocab, stride), static_cast<int32_t*>(d_tokens.data()),
                      static_cast<float*>(d_logprobs.data()));
    std::vector<int32_t> got_tokens(rows);
    cuda_->CopyToHost(got_tokens.data(), d_tokens.data(), rows * sizeof(int32_t));
    const std::vector<float> got_logprobs = d_logprobs.Download();
    std::vector<int32_t> ref_tokens(rows);
    std::vector<float> ref_logprobs(rows);
    cpu_->ArgMaxRows(Host(logits, rows, vocab, stride), ref_tokens.data(), ref_logprobs.data());
    for (int i = 0; i < rows; ++i) {
      SCOPED_TRACE(::testing::Message() << "vocab " << vocab << " row " << i);
      EXPECT_EQ(got_tokens[i], ref_tokens[i]);
      EXPECT_TRUE(LogprobsAgree(got_logprobs[i], ref_logprobs[i], 1e-5))
          << got_logprobs[i] << " vs " << ref_logprobs[i];
    }
  }
  EXPECT_TRUE(cuda_->greedy_on_device());
}

struct GemmCase {
  int m, n, k;
  bool bias;
  int x_pad;  // extra columns of x's row stride (a column view)
};

TEST_P(CudaOpsTest, GemmMatchesCpu) {
  const GemmCase cases[] = {{1, 1, 1, false, 0},       {1, 4096, 512, true, 0},
                            {3, 37, 19, true, 5},      {17, 300, 129, false, 8},
                            {64, 256, 512, true, 0},   {130, 96, 1000, false, 3},
                            {512, 1024, 256, false, 0}};
  for (const GemmCase& c : cases) {
    const int ldx = c.k + c.x_pad;
    std::vector<float> x = RoundTo(RandomFloats(c.m * ldx, 11), dtype_);
    std::vector<float> w = RoundTo(RandomFloats(c.n * c.k, 12), dtype_);
    std::vector<float> b = RoundTo(RandomFloats(c.n, 13), dtype_);
    DeviceArray d_x(*cuda_, dtype_, x.size()), d_w(*cuda_, dtype_, w.size()),
        d_b(*cuda_, dtype_, b.size()), d_y(*cuda_, dtype_, c.m * c.n);
    d_x.Upload(x);
    d_w.Upload(w);
    d_b.Upload(b);
    d_y.Poison();
    cuda_->Gemm(d_x.View(c.m, c.k, ldx), d_w.View2(c.n, c.k), c.bias ? d_b.View1(c.n) : Tensor{},
                d_y.View2(c.m, c.n));
    std::vector<float> ref(c.m * c.n, kNaN);
    cpu_->Gemm(Host(x, c.m, c.k, ldx), Host(w, c.n, c.k, c.k),
               c.bias ? Tensor::Make(b.data(), DType::kF32, {c.n}) : Tensor{},
               Host(ref, c.m, c.n, c.n));
    const std::vector<float> got = d_y.Download();
    EXPECT_FALSE(HasNaN(got));
    EXPECT_LT(RelativeError(got, ToDouble(ref)), Tolerance(dtype_))
        << c.m << "x" << c.n << "x" << c.k << (c.bias ? " +bias" : "");
  }
}

TEST_P(CudaOpsTest, GemmWritesFp32OutputFromActivationInputs) {
  // Logits in fp32 from bf16/f16 activations and weights.
  const int m = 5, n = 1001, k = 64;
  std::vector<float> x = RoundTo(RandomFloats(m * k, 14), dtype_);
  std::vector<float> w = RoundTo(RandomFloats(n * k, 15), dtype_);
  DeviceArray d_x(*cuda_, dtype_, x.size()), d_w(*cuda_, dtype_, w.size()),
      d_y(*cuda_, DType::kF32, m * n);
  d_x.Upload(x);
  d_w.Upload(w);
  d_y.Poison();
  cuda_->Gemm(d_x.View2(m, k), d_w.View2(n, k), Tensor{}, d_y.View2(m, n));
  std::vector<float> ref(m * n);
  cpu_->Gemm(Host(x, m, k, k), Host(w, n, k, k), Tensor{}, Host(ref, m, n, n));
  EXPECT_LT(RelativeError(d_y.Download(), ToDouble(ref)), dtype_ == DType::kF32 ? 1e-5 : 1e-4);
}

TEST_P(CudaOpsTest, BadShapeIsLatchedNotCrashed) {
  DeviceArray d_x(*cuda_, dtype_, 4 * 8), d_y(*cuda_, dtype_, 4 * 8);
  cuda_->SiluMul(d_x.View2(4, 8), d_y.View2(4, 8));  // gate_up must be twice out's width
  const absl::Status status = cuda_->status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("SiluMul"), std::string::npos) << status;
  // Later ops do nothing and reads come back as NaN rather than stale data.
  std::vector<float> host(4);
  cuda_->CopyToHost(host.data(), d_y.data(), sizeof(float) * 4);
  EXPECT_TRUE(std::isnan(host[0]));
  cuda_.reset();  // TearDown must not report the planted failure
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CudaOpsTest,
                         ::testing::Values(DType::kF32, DType::kBF16, DType::kF16), DTypeParamName);

}  // namespace
}  // namespace gqa::testing
