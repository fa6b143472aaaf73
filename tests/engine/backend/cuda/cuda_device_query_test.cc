// The device query helpers answer cleanly with or without a device (no
// driver, no GPU: a count of 0 and errors, never a crash).
#include <gtest/gtest.h>

#include "engine/backend/cuda/cuda_backend.h"

namespace gqa {
namespace {

TEST(CudaDeviceQueryTest, AnswersCleanlyWithOrWithoutADevice) {
  const int count = CudaDeviceCount();
  EXPECT_GE(count, 0);
  if (count == 0) {
    EXPECT_FALSE(GetCudaDeviceInfo(0).ok());
    CudaBackendOptions options;
    const absl::StatusOr<std::unique_ptr<Backend>> backend = MakeCudaBackend(options);
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kUnavailable) << backend.status();
  } else {
    const absl::StatusOr<CudaDeviceInfo> info = GetCudaDeviceInfo(0);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_GT(info->num_sms, 0);
    EXPECT_GT(info->total_bytes, info->free_bytes / 2);
  }
}

}  // namespace
}  // namespace gqa
