#include "engine/quant/packed_blocks.h"

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "engine/quant/block_formats.h"
#include "engine/quant/cpu_features.h"
#include "engine/quant/packed_blocks_kernels.h"

namespace gqa::quant {
namespace {

// Every dtype with a packed layout: its row-major block and its packed block
// (block_formats.h).
template <typename Block>
struct PackedOf;
template <>
struct PackedOf<BlockQ8_0> {
  using type = BlockQ8_0x16;
};
template <>
struct PackedOf<BlockQ4_0> {
  using type = BlockQ4_0x16;
};
template <>
struct PackedOf<BlockQ4_1> {
  using type = BlockQ4_1x16;
};

// Quant bytes per row and block, in groups of 4 (block_formats.h).
template <typename Block>
constexpr int kGroups = sizeof(Block::qs) / 4;

// Row r's block (row-major) -> lane r of a packed block.
template <typename Block, typename Packed>
void PackLane(const Block& b, Packed& p, int r) {
  p.d[r] = b.d;
  if constexpr (std::is_same_v<Block, BlockQ4_1>) p.m[r] = b.m;
  for (int c = 0; c < kGroups<Block>; ++c) std::memcpy(&p.qs[64 * c + 4 * r], &b.qs[4 * c], 4);
}

// Lane r of a packed block -> the row-major block it came from.
template <typename Block, typename Packed>
void UnpackLane(const Packed& p, int r, Block& b) {
  b.d = p.d[r];
  if constexpr (std::is_same_v<Block, BlockQ4_1>) b.m = p.m[r];
  for (int c = 0; c < kGroups<Block>; ++c) std::memcpy(&b.qs[4 * c], &p.qs[64 * c + 4 * r], 4);
}

template <typename Block>
void Pack(const void* src, void* dst, int64_t rows, int64_t cols) {
  using Packed = typename PackedOf<Block>::type;
  const int64_t nb = cols / kBlock32;
  const auto* w = static_cast<const Block*>(src);
  auto* out = static_cast<Packed*>(dst);
  for (int64_t g = 0; g < rows / kPackRows; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      for (int r = 0; r < kPackRows; ++r)
        PackLane(w[(g * kPackRows + r) * nb + b], out[g * nb + b], r);
    }
  }
}

template <typename Block>
void Unpack(const void* matrix, int64_t row, int64_t cols, void* dst) {
  using Packed = typename PackedOf<Block>::type;
  const int64_t nb = cols / kBlock32;
  const auto* group = static_cast<const Packed*>(matrix) + row / kPackRows * nb;
  auto* out = static_cast<Block*>(dst);
  const int r = static_cast<int>(row % kPackRows);
  for (int64_t b = 0; b < nb; ++b) UnpackLane(group[b], r, out[b]);
}

}  // namespace

DType PackedDType(DType row_major) {
  switch (row_major) {
    case DType::kQ8_0:
      return DType::kQ8_0x16;
    case DType::kQ4_0:
      return DType::kQ4_0x16;
    case DType::kQ4_1:
      return DType::kQ4_1x16;
    default:
      return row_major;
  }
}

DType RowMajorDType(DType packed) {
  switch (packed) {
    case DType::kQ8_0x16:
      return DType::kQ8_0;
    case DType::kQ4_0x16:
      return DType::kQ4_0;
    case DType::kQ4_1x16:
      return DType::kQ4_1;
    default:
      return packed;
  }
}

void PackRows(DType row_major, const void* src, void* dst, int64_t rows, int64_t cols) {
  assert(rows % kPackRows == 0 && cols % kBlock32 == 0);
  switch (row_major) {
    case DType::kQ8_0:
      return Pack<BlockQ8_0>(src, dst, rows, cols);
    case DType::kQ4_0:
      return Pack<BlockQ4_0>(src, dst, rows, cols);
    case DType::kQ4_1:
      return Pack<BlockQ4_1>(src, dst, rows, cols);
    default:
      assert(false && "no packed layout");
  }
}

void UnpackRow(DType packed, const void* matrix, int64_t row, int64_t cols, void* dst) {
  switch (packed) {
    case DType::kQ8_0x16:
      return Unpack<BlockQ8_0>(matrix, row, cols, dst);
    case DType::kQ4_0x16:
      return Unpack<BlockQ4_0>(matrix, row, cols, dst);
    case DType::kQ4_1x16:
      return Unpack<BlockQ4_1>(matrix, row, cols, dst);
    default:
      assert(false && "not a packed dtype");
  }
}

std::vector<const PackedGemmKernel*> PackedGemmKernelsFor(DType packed) {
  using namespace internal;
  auto pick = [packed](const PackedGemmKernel& q8_0, const PackedGemmKernel& q4_0,
                       const PackedGemmKernel& q4_1) {
    return packed == DType::kQ8_0x16 ? &q8_0 : packed == DType::kQ4_0x16 ? &q4_0 : &q4_1;
  };
  if (RowMajorDType(packed) == packed) return {};
  std::vector<const PackedGemmKernel*> kernels = {
      pick(kQ8_0x16Scalar, kQ4_0x16Scalar, kQ4_1x16Scalar)};
#if defined(__x86_64__)
  if (HostCpuFeatures().avx512_vnni) {
    kernels.push_back(pick(kQ8_0x16Avx512Vnni, kQ4_0x16Avx512Vnni, kQ4_1x16Avx512Vnni));
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
