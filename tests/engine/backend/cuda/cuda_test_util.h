// Helpers for the CUDA backend's parity tests: skipping without a GPU,
// device arrays filled from (and read back to) fp32 host vectors in any
// dtype, and the per-dtype tolerances of DESIGN.md ("Backend contract").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "gtest/gtest.h"
#include "tests/engine/backend/op_test_util.h"

namespace gqa::testing {

// Skips the test when the CUDA runtime sees no device (no driver, no GPU).
#define GQA_REQUIRE_CUDA_DEVICE()        \
  do {                                   \
    if (::gqa::CudaDeviceCount() == 0) { \
      GTEST_SKIP() << "no CUDA device";  \
    }                                    \
  } while (0)

// ||out - ref|| / ||ref|| bound for outputs computed in `dtype`.
inline double Tolerance(DType dtype) { return dtype == DType::kF32 ? 1e-5 : 1e-2; }

inline std::string DTypeParamName(const ::testing::TestParamInfo<DType>& info) {
  return std::string(DTypeName(info.param));
}

// `v` rounded to `dtype` and back: what the device holds, exactly.
inline std::vector<float> RoundTo(const std::vector<float>& v, DType dtype) {
  if (dtype == DType::kF32) return v;
  std::vector<uint16_t> half(v.size());
  std::vector<float> out(v.size());
  ConvertFromF32(v.data(), dtype, half.data(), v.size());
  ConvertToF32(dtype, half.data(), out.data(), v.size());
  return out;
}

inline std::vector<double> ToDouble(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

inline std::unique_ptr<Backend> MakeTestCudaBackend(DType dtype, bool generic_attention = false,
                                                    int decode_splits = 0) {
  CudaBackendOptions options;
  options.activation_dtype = dtype;
  options.force_generic_attention = generic_attention;
  options.decode_num_splits = decode_splits;
  absl::StatusOr<std::unique_ptr<Backend>> backend = MakeCudaBackend(options);
  EXPECT_TRUE(backend.ok()) << backend.status();
  return backend.ok() ? std::move(*backend) : nullptr;
}

// A device allocation holding `count` elements of `dtype`.
class DeviceArray {
 public:
  DeviceArray(Backend& backend, DType dtype, size_t count)
      : backend_(&backend), dtype_(dtype), count_(count) {
    absl::StatusOr<DeviceBuffer> b = backend.Allocate(count * DTypeSize(dtype));
    EXPECT_TRUE(b.ok()) << b.status();
    if (b.ok()) buffer_ = std::move(*b);
  }
  // Uploads `values` (count_ floats) converted to the array's dtype.
  void Upload(const std::vector<float>& values) {
    ASSERT_EQ(values.size(), count_);
    std::vector<char> staged(count_ * DTypeSize(dtype_));
    ConvertFromF32(values.data(), dtype_, staged.data(), count_);
    backend_->CopyToDevice(buffer_.data(), staged.data(), staged.size());
  }
  void Poison() { Upload(std::vector<float>(count_, kNaN)); }
  std::vector<float> Download() const {
    std::vector<char> staged(count_ * DTypeSize(dtype_));
    backend_->CopyToHost(staged.data(), buffer_.data(), staged.size());
    std::vector<float> out(count_);
    ConvertToF32(dtype_, staged.data(), out.data(), count_);
    return out;
  }
  // Raw integer arrays (index metadata).
  template <typename I>
  static DeviceArray FromInts(Backend& backend, const std::vector<I>& values) {
    DeviceArray a(backend, DType::kF32, (values.size() * sizeof(I) + 3) / 4 + 1);
    if (!values.empty()) backend.CopyToDevice(a.data(), values.data(), values.size() * sizeof(I));
    return a;
  }

  void* data() const { return buffer_.data(); }
  template <typename I>
  const I* as() const {
    return static_cast<const I*>(buffer_.data());
  }
  // A [rows, cols] view with row stride `stride` (>= cols).
  Tensor View(int64_t rows, int64_t cols, int64_t stride) const {
    return Tensor::Make(buffer_.data(), dtype_, {rows, stride}).Cols(0, cols);
  }
  Tensor View2(int64_t rows, int64_t cols) const { return View(rows, cols, cols); }
  Tensor View1(int64_t n) const { return Tensor::Make(buffer_.data(), dtype_, {n}); }
  Tensor View4(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return Tensor::Make(buffer_.data(), dtype_, {a, b, c, d});
  }

 private:
  Backend* backend_;
  DType dtype_;
  size_t count_;
  DeviceBuffer buffer_;
};

// The [rows, cols] elements of a [rows, stride] row-major array, densely.
inline std::vector<float> Dense(const std::vector<float>& v, int64_t rows, int64_t cols,
                                int64_t stride) {
  std::vector<float> out;
  out.reserve(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out.push_back(v[r * stride + c]);
  return out;
}

}  // namespace gqa::testing
