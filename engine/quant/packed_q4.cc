#include "engine/quant/packed_q4.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

#include "engine/quant/block_formats.h"
#include "engine/quant/cpu_features.h"
#include "engine/quant/packed_q4_kernels.h"

namespace gqa::quant {
namespace {

// One block of 16 rows: row r's block at rows[r] -> out (block_formats.h).
template <typename Block, typename Packed>
void PackBlock(const Block* const* rows, Packed& out) {
  for (int r = 0; r < kPackRows; ++r) {
    const Block& b = *rows[r];
    out.d[r] = b.d;
    if constexpr (std::is_same_v<Block, BlockQ4_1>) out.m[r] = b.m;
    for (int c = 0; c < 4; ++c) std::memcpy(out.qs + 64 * c + 4 * r, b.qs + 4 * c, 4);
  }
}

template <typename Block, typename Packed>
void Pack(const void* src, void* dst, int64_t rows, int64_t cols) {
  const int64_t nb = cols / kBlock32;
  const auto* w = static_cast<const Block*>(src);
  auto* out = static_cast<Packed*>(dst);
  for (int64_t g = 0; g < rows / kPackRows; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      const Block* group_rows[kPackRows];
      for (int r = 0; r < kPackRows; ++r) group_rows[r] = w + (g * kPackRows + r) * nb + b;
      PackBlock(group_rows, out[g * nb + b]);
    }
  }
}

}  // namespace

DType PackedDType(DType row_major) {
  switch (row_major) {
    case DType::kQ4_0:
      return DType::kQ4_0x16;
    case DType::kQ4_1:
      return DType::kQ4_1x16;
    default:
      return row_major;
  }
}

void PackRows(DType row_major, const void* src, void* dst, int64_t rows, int64_t cols) {
  assert(rows % kPackRows == 0 && cols % kBlock32 == 0);
  if (row_major == DType::kQ4_0) {
    Pack<BlockQ4_0, BlockQ4_0x16>(src, dst, rows, cols);
  } else {
    assert(row_major == DType::kQ4_1);
    Pack<BlockQ4_1, BlockQ4_1x16>(src, dst, rows, cols);
  }
}

std::vector<const PackedGemmKernel*> PackedGemmKernelsFor(DType packed) {
  using namespace internal;
  if (packed != DType::kQ4_0x16 && packed != DType::kQ4_1x16) return {};
  const bool q4_1 = packed == DType::kQ4_1x16;
  std::vector<const PackedGemmKernel*> kernels = {q4_1 ? &kQ4_1x16Scalar : &kQ4_0x16Scalar};
#if defined(__x86_64__)
  if (HostCpuFeatures().avx512_vnni) {
    kernels.push_back(q4_1 ? &kQ4_1x16Avx512Vnni : &kQ4_0x16Avx512Vnni);
  }
#endif
  return kernels;
}

const PackedGemmKernel* BestPackedGemmKernel(DType packed) {
  const std::vector<const PackedGemmKernel*> kernels = PackedGemmKernelsFor(packed);
  if (kernels.size() < 2) return nullptr;
  const char* choice = std::getenv("GQA_CPU_KERNELS");
  if (choice != nullptr && std::string_view(choice) == "scalar") return nullptr;
  return kernels.back();
}

}  // namespace gqa::quant
