// The CPU backend's row-wise ops and GEMM against naive double references.
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/cpu_gemm.h"
#include "engine/sampling/logprobs.h"
#include "engine/sampling/token_distribution.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa {
namespace {

using testing::ArgMaxTestRows;
using testing::HasNaN;
using testing::kNaN;
using testing::LogprobsAgree;
using testing::RandomFloats;
using testing::RelativeError;

constexpr double kTolerance = 1e-5;

// A [rows, cols] f32 view into `storage` ([rows, stride]) with row stride `stride`.
Tensor View(std::vector<float>& storage, int64_t rows, int64_t cols, int64_t stride) {
  return Tensor::Make(storage.data(), DType::kF32, {rows, stride}).Cols(0, cols);
}

// The [rows, cols] elements of a strided view, densely.
std::vector<float> Dense(const std::vector<float>& storage, int64_t rows, int64_t cols,
                         int64_t stride) {
  std::vector<float> out;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out.push_back(storage[r * stride + c]);
  return out;
}

class CpuOpsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> backend_ = MakeCpuBackend(0);
};

TEST_F(CpuOpsTest, NameDtypeAndThreads) {
  EXPECT_EQ(backend_->name(), "cpu");
  EXPECT_EQ(backend_->activation_dtype(), DType::kF32);
  EXPECT_GE(static_cast<CpuBackend*>(backend_.get())->num_threads(), 1);
  EXPECT_EQ(CpuBackend(3).num_threads(), 3);
}

TEST_F(CpuOpsTest, AllocateIsAlignedAndCopiesRoundTrip) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{4096}, size_t{100003}}) {
    absl::StatusOr<DeviceBuffer> buffer = backend_->Allocate(bytes);
    ASSERT_TRUE(buffer.ok()) << buffer.status();
    EXPECT_NE(buffer->data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u) << bytes;
    EXPECT_EQ(buffer->bytes(), bytes);
  }
  std::vector<float> src = RandomFloats(1000, 1), back(1000);
  absl::StatusOr<DeviceBuffer> buffer = backend_->Allocate(src.size() * sizeof(float));
  ASSERT_TRUE(buffer.ok());
  backend_->CopyToDevice(buffer->data(), src.data(), src.size() * sizeof(float));
  backend_->CopyToHost(back.data(), buffer->data(), back.size() * sizeof(float));
  backend_->Synchronize();
  EXPECT_EQ(back, src);
}

TEST_F(CpuOpsTest, EmbeddingLookupF32Bf16F16) {
  const int vocab = 37, dim = 19;
  const std::vector<int32_t> ids = {5, 0, 36, 5, 17, 2, 30};
  const int n = static_cast<int>(ids.size());
  std::vector<float> table = RandomFloats(vocab * dim, 2);
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16}) {
    // The table in `dtype`, and what each element reads back as in fp32.
    std::vector<uint16_t> half(table.size());
    std::vector<float> expected_table = table;
    if (dtype != DType::kF32) {
      ConvertFromF32(table.data(), dtype, half.data(), table.size());
      ConvertToF32(dtype, half.data(), expected_table.data(), table.size());
    }
    void* data = dtype == DType::kF32 ? static_cast<void*>(table.data()) : half.data();
    const Tensor t = Tensor::Make(data, dtype, {vocab, dim});
    std::vector<float> out(n * dim, kNaN);
    backend_->EmbeddingLookup(t, ids.data(), Tensor::Make(out.data(), DType::kF32, {n, dim}));
    for (int i = 0; i < n; ++i)
      for (int d = 0; d < dim; ++d)
        ASSERT_EQ(out[i * dim + d], expected_table[ids[i] * dim + d]) << DTypeName(dtype);
  }
}

TEST_F(CpuOpsTest, EmbeddingLookupOutOfRangeIdGivesZeroRow) {
  std::vector<float> table = RandomFloats(4 * 3, 3);
  const std::vector<int32_t> ids = {1, 4, -1};
  std::vector<float> out(9, kNaN);
  backend_->EmbeddingLookup(Tensor::Make(table.data(), DType::kF32, {4, 3}), ids.data(),
                            Tensor::Make(out.data(), DType::kF32, {3, 3}));
  EXPECT_EQ(out, (std::vector<float>{table[3], table[4], table[5], 0, 0, 0, 0, 0, 0}));
}

// x * (1 / sqrt(mean(x^2) + eps)) * w in double, row by row.
std::vector<double> RmsNormRef(const std::vector<float>& x, const std::vector<float>& w, int n,
                               int dim, float eps) {
  std::vector<double> out(n * dim);
  for (int i = 0; i < n; ++i) {
    double sum_sq = 0;
    for (int d = 0; d < dim; ++d) sum_sq += double{x[i * dim + d]} * x[i * dim + d];
    const double inv = 1.0 / std::sqrt(sum_sq / dim + eps);
    for (int d = 0; d < dim; ++d) out[i * dim + d] = x[i * dim + d] * inv * w[d];
  }
  return out;
}

TEST_F(CpuOpsTest, RmsNormMatchesReference) {
  // Small (single-threaded path) and large (OpenMP path) row counts; strided x and out.
  for (auto [n, dim] : {std::pair{5, 67}, std::pair{70, 1031}}) {
    const int stride = dim + 9;
    std::vector<float> x = RandomFloats(n * stride, 4, -3.0f, 3.0f);
    std::vector<float> w = RandomFloats(dim, 5);
    std::vector<float> out(n * stride, kNaN);
    backend_->RmsNorm(View(x, n, dim, stride), Tensor::Make(w.data(), DType::kF32, {dim}), 1e-5f,
                      View(out, n, dim, stride));
    const std::vector<float> got = Dense(out, n, dim, stride);
    EXPECT_FALSE(HasNaN(got));
    EXPECT_LT(RelativeError(got, RmsNormRef(Dense(x, n, dim, stride), w, n, dim, 1e-5f)),
              kTolerance);
  }
}

TEST_F(CpuOpsTest, AddRmsNormUpdatesResidualAndNormalizes) {
  for (auto [n, dim] : {std::pair{3, 45}, std::pair{40, 2049}}) {
    std::vector<float> residual = RandomFloats(n * dim, 6);
    const std::vector<float> x = RandomFloats(n * dim, 7);
    const std::vector<float> w = RandomFloats(dim, 8);
    std::vector<float> expected_residual(n * dim);
    for (int i = 0; i < n * dim; ++i) expected_residual[i] = residual[i] + x[i];  // fp32 add
    std::vector<float> out(n * dim, kNaN);
    backend_->AddRmsNorm(Tensor::Make(residual.data(), DType::kF32, {n, dim}),
                         Tensor::Make(const_cast<float*>(x.data()), DType::kF32, {n, dim}),
                         Tensor::Make(const_cast<float*>(w.data()), DType::kF32, {dim}), 1e-6f,
                         Tensor::Make(out.data(), DType::kF32, {n, dim}));
    EXPECT_EQ(residual, expected_residual);
    EXPECT_FALSE(HasNaN(out));
    EXPECT_LT(RelativeError(out, RmsNormRef(expected_residual, w, n, dim, 1e-6f)), kTolerance);
  }
}

TEST_F(CpuOpsTest, SiluMulMatchesReference) {
  for (auto [n, hidden] : {std::pair{1, 13}, std::pair{9, 77}, std::pair{33, 1500}}) {
    const int stride = 2 * hidden + 3;  // gate_up may be a column view
    const std::vector<float> gate_up_storage = RandomFloats(n * stride, 9, -6.0f, 6.0f);
    std::vector<float> gate_up = gate_up_storage;
    std::vector<float> out(n * hidden, kNaN);
    backend_->SiluMul(View(gate_up, n, 2 * hidden, stride),
                      Tensor::Make(out.data(), DType::kF32, {n, hidden}));
    std::vector<double> ref(n * hidden);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < hidden; ++j) {
        const double g = gate_up[i * stride + j], u = gate_up[i * stride + hidden + j];
        ref[i * hidden + j] = g / (1.0 + std::exp(-g)) * u;
      }
    }
    EXPECT_EQ(gate_up, gate_up_storage);  // input untouched
    EXPECT_LT(RelativeError(out, ref), kTolerance);
  }
}

TEST_F(CpuOpsTest, GatherRowsCopiesExactly) {
  const int rows = 11, cols = 7, stride = 10;
  std::vector<float> x = RandomFloats(rows * stride, 10);
  const std::vector<int32_t> picks = {10, 0, 3, 3, 7};
  const int m = static_cast<int>(picks.size());
  std::vector<float> out(m * cols, kNaN);
  backend_->GatherRows(View(x, rows, cols, stride), picks.data(),
                       Tensor::Make(out.data(), DType::kF32, {m, cols}));
  for (int i = 0; i < m; ++i)
    for (int c = 0; c < cols; ++c) EXPECT_EQ(out[i * cols + c], x[picks[i] * stride + c]);
}

TEST_F(CpuOpsTest, ArgMaxRowsIsTheHostSamplersGreedyToken) {
  // The host sampler's greedy rule (engine/sampling) is the definition.
  for (const int64_t vocab : {12, 1000, 32000}) {
    int rows = 0;
    std::vector<float> logits = ArgMaxTestRows(vocab, &rows, 20);
    const int64_t stride = vocab + 3;  // a column view, as the model's logits may be
    std::vector<float> storage(rows * stride, -1.0e30f);
    for (int i = 0; i < rows; ++i)
      std::copy_n(logits.begin() + i * vocab, vocab, storage.begin() + i * stride);
    std::vector<int32_t> tokens(rows, -7);
    std::vector<float> logprobs(rows, 1.0f);
    backend_->ArgMaxRows(View(storage, rows, vocab, stride), tokens.data(), logprobs.data());
    for (int i = 0; i < rows; ++i) {
      const std::span<const float> row(logits.data() + i * vocab, vocab);
      SCOPED_TRACE(::testing::Message() << "vocab " << vocab << " row " << i);
      EXPECT_EQ(tokens[i], ArgMax(row));
      EXPECT_TRUE(LogprobsAgree(logprobs[i], LogSoftmaxAt(row, ArgMax(row)), 1e-6))
          << logprobs[i] << " vs " << LogSoftmaxAt(row, ArgMax(row));
    }
    // The named cases, spelled out.
    EXPECT_EQ(tokens[3], 3);
    EXPECT_EQ(tokens[4], 9);
    EXPECT_TRUE(std::isnan(logprobs[4]));
    EXPECT_EQ(tokens[5], 0);
    EXPECT_EQ(tokens[6], 0);
    EXPECT_EQ(tokens[7], 7);
    EXPECT_EQ(logprobs[7], 0.0f);
    EXPECT_EQ(tokens[8], 5);
    EXPECT_EQ(tokens[10], 0);
    EXPECT_NEAR(logprobs[10], -std::log(static_cast<double>(vocab)), 1e-5);
    EXPECT_EQ(tokens[11], vocab - 1);
    EXPECT_EQ(tokens[12], 1);
  }
}

// ---- GEMM ----

struct GemmCase {
  int m, n, k;
  bool bias;
};

enum class GemmKernel { kDispatch, kMatVec, kBlas };

void RunGemm(Backend& backend, GemmKernel kernel, const Tensor& x, const Tensor& w,
             const Tensor& bias, Tensor y) {
  switch (kernel) {
    case GemmKernel::kDispatch:
      backend.Gemm(x, w, bias, y);
      break;
    case GemmKernel::kMatVec:
      cpu::GemmMatVec(x, w, bias, y, 2);
      break;
    case GemmKernel::kBlas:
      cpu::GemmBlas(x, w, bias, y, 2);
      break;
  }
}

TEST_F(CpuOpsTest, GemmAllKernelsMatchReferenceOnStridedViews) {
  const std::vector<GemmCase> cases = {
      {1, 1, 1, false},     {1, 37, 17, true},     {2, 5, 33, false},    {3, 130, 7, true},
      {4, 288, 288, true},  {5, 1001, 100, false}, {7, 3, 288, true},    {16, 130, 47, true},
      {33, 64, 768, false}, {70, 99, 45, true},    {129, 500, 31, true},
  };
  const float kSentinel = 1234.5f;
  for (const GemmCase& c : cases) {
    for (GemmKernel kernel : {GemmKernel::kDispatch, GemmKernel::kMatVec, GemmKernel::kBlas}) {
      SCOPED_TRACE(::testing::Message() << "m=" << c.m << " n=" << c.n << " k=" << c.k
                                        << " bias=" << c.bias << " kernel=" << int(kernel));
      // x and y are column views of wider matrices; w is dense, as weights are.
      const int x_stride = c.k + 5, y_stride = c.n + 3;
      std::vector<float> x = RandomFloats(c.m * x_stride, 11 + c.m);
      std::vector<float> w = RandomFloats(c.n * c.k, 12 + c.n);
      std::vector<float> b = RandomFloats(c.n, 13);
      std::vector<float> y(c.m * y_stride, kNaN);
      for (int i = 0; i < c.m; ++i)
        for (int j = c.n; j < y_stride; ++j) y[i * y_stride + j] = kSentinel;
      const Tensor bias = c.bias ? Tensor::Make(b.data(), DType::kF32, {c.n}) : Tensor{};
      RunGemm(*backend_, kernel, View(x, c.m, c.k, x_stride),
              Tensor::Make(w.data(), DType::kF32, {c.n, c.k}), bias, View(y, c.m, c.n, y_stride));

      std::vector<double> ref(c.m * c.n);
      for (int i = 0; i < c.m; ++i) {
        for (int j = 0; j < c.n; ++j) {
          double acc = c.bias ? b[j] : 0.0;
          for (int p = 0; p < c.k; ++p) acc += double{x[i * x_stride + p]} * w[j * c.k + p];
          ref[i * c.n + j] = acc;
        }
      }
      const std::vector<float> got = Dense(y, c.m, c.n, y_stride);
      EXPECT_FALSE(HasNaN(got));
      EXPECT_LT(RelativeError(got, ref), kTolerance);
      for (int i = 0; i < c.m; ++i)  // columns past n untouched
        for (int j = c.n; j < y_stride; ++j) ASSERT_EQ(y[i * y_stride + j], kSentinel);
    }
  }
}

TEST_F(CpuOpsTest, GemmDispatchBoundIsPositive) { EXPECT_GE(cpu::MatVecMaxRows(), 16); }

}  // namespace
}  // namespace gqa
