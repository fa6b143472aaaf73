#include "engine/backend/cpu/cpu_attention_tile.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "engine/backend/cpu/cpu_util.h"
#include "engine/common/dtype.h"

namespace gqa::cpu::attention {
namespace {

// Keys scored per pass of ScoreKeys: kKeys x kVectors accumulators (<= 24 of
// the 32 AVX-512 registers) plus the kVectors query vectors.
template <int kVectors>
constexpr int kKeyStrip = kVectors == 1   ? 16
                          : kVectors == 2 ? 12
                          : kVectors == 3 ? 8
                                          : 6;

// scores[j, :] = sum_d k_rows[j][d] * qt[d, :] for j < num_keys rounded up to
// kKeyStrip (k_rows has that many valid pointers; the extra scores are unused).
template <int kVectors>
void ScoreKeys(const Vec16* qt, const float* const* k_rows, int num_keys, int head_dim,
               Vec16* scores) {
  constexpr int kKeys = kKeyStrip<kVectors>;
  for (int j0 = 0; j0 < num_keys; j0 += kKeys) {
    Vec16 acc[kKeys][kVectors] = {};
    const float* const* k = k_rows + j0;
    for (int d = 0; d < head_dim; ++d) {
      Vec16 q[kVectors];
#pragma GCC unroll 4
      for (int n = 0; n < kVectors; ++n) q[n] = qt[d * kVectors + n];
#pragma GCC unroll 16
      for (int j = 0; j < kKeys; ++j) {
        const float k_jd = k[j][d];
#pragma GCC unroll 4
        for (int n = 0; n < kVectors; ++n) acc[j][n] += q[n] * k_jd;
      }
    }
#pragma GCC unroll 16
    for (int j = 0; j < kKeys; ++j)
#pragma GCC unroll 4
      for (int n = 0; n < kVectors; ++n) scores[(j0 + j) * kVectors + n] = acc[j][n];
  }
}

// Scores of keys after a lane's position become -inf (the causal mask).
template <int kVectors>
void MaskKeys(int first_key, int num_keys, const Vec16* position, Vec16* scores) {
  for (int j = 0; j < num_keys; ++j) {
    const Vec16 key = Splat(static_cast<float>(first_key + j));
    for (int n = 0; n < kVectors; ++n) {
      Vec16& s = scores[j * kVectors + n];
      s = key > position[n] ? Splat(-kInf) : s;
    }
  }
}

// Folds a tile's scores into the running max and sum, turning the scores
// into weights 2^(s - new max); alpha = 2^(old max - new max) rescales what
// was accumulated before. A lane with no visible key so far keeps max -inf
// and gets weights 0 (its max is taken as 0 for the subtraction).
template <int kVectors>
void Softmax(int num_keys, Vec16* scores, Vec16* max, Vec16* sum, Vec16* alpha) {
  Vec16 new_max[kVectors], base[kVectors], tile_sum[kVectors];
  for (int n = 0; n < kVectors; ++n) new_max[n] = max[n];
  for (int j = 0; j < num_keys; ++j)
    for (int n = 0; n < kVectors; ++n) new_max[n] = Max(new_max[n], scores[j * kVectors + n]);
  for (int n = 0; n < kVectors; ++n) {
    base[n] = new_max[n] == Splat(-kInf) ? Vec16{} : new_max[n];
    alpha[n] = Exp2(max[n] - base[n]);
    tile_sum[n] = Vec16{};
  }
  for (int j = 0; j < num_keys; ++j) {
    for (int n = 0; n < kVectors; ++n) {
      Vec16& s = scores[j * kVectors + n];
      s = Exp2(s - base[n]);
      tile_sum[n] += s;
    }
  }
  for (int n = 0; n < kVectors; ++n) {
    sum[n] = sum[n] * alpha[n] + tile_sum[n];
    max[n] = new_max[n];
  }
}

// acc[d, :] = acc[d, :] * alpha + sum_j v_rows[j][d] * weights[j, :] for
// d in [d_begin, d_begin + kDims): kDims x kVectors accumulators.
template <int kVectors, int kDims>
void AccumulateDims(const Vec16* weights, const float* const* v_rows, int num_keys, int d_begin,
                    const Vec16* alpha, Vec16* acc) {
  Vec16 a[kDims][kVectors];
#pragma GCC unroll 16
  for (int r = 0; r < kDims; ++r)
#pragma GCC unroll 4
    for (int n = 0; n < kVectors; ++n) a[r][n] = acc[(d_begin + r) * kVectors + n] * alpha[n];
  for (int j = 0; j < num_keys; ++j) {
    Vec16 w[kVectors];
#pragma GCC unroll 4
    for (int n = 0; n < kVectors; ++n) w[n] = weights[j * kVectors + n];
    const float* v = v_rows[j] + d_begin;
#pragma GCC unroll 16
    for (int r = 0; r < kDims; ++r) {
      const float v_r = v[r];
#pragma GCC unroll 4
      for (int n = 0; n < kVectors; ++n) a[r][n] += w[n] * v_r;
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < kDims; ++r)
#pragma GCC unroll 4
    for (int n = 0; n < kVectors; ++n) acc[(d_begin + r) * kVectors + n] = a[r][n];
}

template <int kVectors>
constexpr int kDimStrip = kVectors == 1   ? 16
                          : kVectors == 4 ? 4
                                          : 8;

template <int kVectors>
void Accumulate(const Vec16* weights, const float* const* v_rows, int num_keys, int head_dim,
                const Vec16* alpha, Vec16* acc) {
  constexpr int kDims = kDimStrip<kVectors>;
  int d = 0;
  for (; d + kDims <= head_dim; d += kDims)
    AccumulateDims<kVectors, kDims>(weights, v_rows, num_keys, d, alpha, acc);
  for (; d < head_dim; ++d) AccumulateDims<kVectors, 1>(weights, v_rows, num_keys, d, alpha, acc);
}

}  // namespace

int64_t CacheRowOffset(const TileInputs& in, const QueryTile& tile, int key) {
  const AttentionMetadata& meta = *in.meta;
  const int32_t block = meta.block_tables[static_cast<int64_t>(tile.seq) * meta.max_blocks_per_seq +
                                          key / in.block_size];
  return ((static_cast<int64_t>(block) * in.n_kv_heads + tile.kv_head) * in.block_size +
          key % in.block_size) *
         in.head_dim;
}

void TileScratch::FindRows(const TileInputs& in, const QueryTile& tile, int first_key, int num_keys,
                           bool widen) {
  const bool bf16 = in.kv->k.dtype == DType::kBF16;
  const size_t widened_row = static_cast<size_t>(in.head_dim);  // K rows, then V rows
  if (bf16 && widen) widened_.resize(2 * kKeyTile * widened_row);
  for (int j = 0; j < num_keys; ++j) {
    const int64_t at = CacheRowOffset(in, tile, first_key + j);
    if (!bf16) {
      k_rows_[j] = in.kv->k.as<float>() + at;
      v_rows_[j] = in.kv->v.as<float>() + at;
    } else if (!widen) {
      k_rows_bf16_[j] = in.kv->k.as<uint16_t>() + at;
      v_rows_bf16_[j] = in.kv->v.as<uint16_t>() + at;
    } else {
      float* k = &widened_[j * widened_row];
      float* v = k + kKeyTile * widened_row;
      ConvertToF32(DType::kBF16, in.kv->k.as<uint16_t>() + at, k, in.head_dim);
      ConvertToF32(DType::kBF16, in.kv->v.as<uint16_t>() + at, v, in.head_dim);
      k_rows_[j] = k;
      v_rows_[j] = v;
    }
  }
  for (int j = num_keys; j < num_keys + kLanes; ++j) {
    if (bf16 && !widen) {
      k_rows_bf16_[j] = k_rows_bf16_[num_keys - 1];
      v_rows_bf16_[j] = v_rows_bf16_[num_keys - 1];
    } else {
      k_rows_[j] = k_rows_[num_keys - 1];
      v_rows_[j] = v_rows_[num_keys - 1];
    }
  }
}

template <int kVectors>
TileState TileScratch::Attend(const TileInputs& in, const QueryTile& tile) {
  constexpr int kTileLanes = kVectors * kLanes;
  const int head_dim = in.head_dim;
  const AttentionMetadata& meta = *in.meta;
  qt_.assign(static_cast<size_t>(head_dim) * kVectors, Vec16{});
  acc_.assign(static_cast<size_t>(head_dim) * kVectors, Vec16{});
  scores_.resize(static_cast<size_t>(kKeyTile + kLanes) * kVectors);
  stats_.resize(3 * kVectors);
  ResizeRows();
  Vec16 *max = stats_.data(), *sum = max + kVectors, *position = sum + kVectors;

  // The queries, transposed and pre-multiplied by scale * log2(e) so the
  // softmax runs in base 2. Padding lanes: zero queries at position +inf.
  const int row_first = meta.query_start[tile.seq];
  const int q_len = meta.query_start[tile.seq + 1] - row_first;
  const int first_pos = meta.context_lens[tile.seq] - q_len + (tile.row_begin - row_first);
  const int last_pos = first_pos + tile.num_rows - 1;
  const float q_scale = in.scale * kLog2E;
  for (int n = 0; n < kVectors; ++n) {
    max[n] = Splat(-kInf);
    sum[n] = Vec16{};
    position[n] = Splat(kInf);
  }
  for (int r = 0; r < tile.num_rows; ++r) {
    const float* q_row = RowF32(*in.q, tile.row_begin + r) + tile.head_begin * head_dim;
    for (int g = 0; g < tile.num_heads; ++g) {
      const int lane = r * tile.num_heads + g;
      const float* query = q_row + g * head_dim;
      for (int d = 0; d < head_dim; ++d)
        qt_[d * kVectors + lane / kLanes][lane % kLanes] = query[d] * q_scale;
      position[lane / kLanes][lane % kLanes] = static_cast<float>(first_pos + r);
    }
  }

  const int key_end = std::min(tile.key_end, last_pos + 1);
  for (int first_key = tile.key_begin; first_key < key_end; first_key += kKeyTile) {
    const int num_keys = std::min(kKeyTile, key_end - first_key);
    FindRows(in, tile, first_key, num_keys, /*widen=*/true);
    ScoreKeys<kVectors>(qt_.data(), k_rows_.data(), num_keys, head_dim, scores_.data());
    if (first_key + num_keys - 1 > first_pos) {  // a diagonal tile: some key follows some row
      MaskKeys<kVectors>(first_key, num_keys, position, scores_.data());
    }
    Vec16 alpha[kVectors];
    Softmax<kVectors>(num_keys, scores_.data(), max, sum, alpha);
    Accumulate<kVectors>(scores_.data(), v_rows_.data(), num_keys, head_dim, alpha, acc_.data());
  }
  return {kTileLanes, reinterpret_cast<const float*>(max), reinterpret_cast<const float*>(sum),
          reinterpret_cast<const float*>(acc_.data())};
}

TileState TileScratch::AttendTile(const TileInputs& in, const QueryTile& tile) {
  assert(tile.num_queries() > 0 && tile.num_queries() <= kMaxTileQueries);
  assert(tile.key_begin % kKeyTile == 0);
  if (tile.num_queries() <= kMaxFewQueries && in.head_dim % kLanes == 0) {
    return AttendFew(in, tile);
  }
  switch ((tile.num_queries() + kLanes - 1) / kLanes) {
    case 1:
      return Attend<1>(in, tile);
    case 2:
      return Attend<2>(in, tile);
    case 3:
      return Attend<3>(in, tile);
    default:
      return Attend<4>(in, tile);
  }
}

void WriteTileOutput(const TileState& state, const QueryTile& tile, int head_dim, Tensor& out) {
  WriteMergedOutput(&state, 1, tile, head_dim, out);
}

void WriteMergedOutput(const TileState* parts, int num_parts, const QueryTile& tile, int head_dim,
                       Tensor& out) {
  const int lanes = parts[0].lanes;
  for (int r = 0; r < tile.num_rows; ++r) {
    float* out_row = RowF32(out, tile.row_begin + r) + tile.head_begin * head_dim;
    for (int g = 0; g < tile.num_heads; ++g) {
      const int lane = r * tile.num_heads + g;
      float* o = out_row + g * head_dim;
      if (num_parts == 1) {
        const float inv_sum = 1.0f / parts[0].sum[lane];
        for (int d = 0; d < head_dim; ++d) o[d] = parts[0].acc[d * lanes + lane] * inv_sum;
        continue;
      }
      // Every query sees key 0 in some part, so the common max is finite.
      float max = -kInf;
      for (int p = 0; p < num_parts; ++p) max = std::max(max, parts[p].max[lane]);
      float sum = 0.0f;
      std::fill_n(o, head_dim, 0.0f);
      for (int p = 0; p < num_parts; ++p) {
        const float weight = std::exp2(parts[p].max[lane] - max);  // 0 for a part with no key
        sum += weight * parts[p].sum[lane];
        for (int d = 0; d < head_dim; ++d) o[d] += weight * parts[p].acc[d * lanes + lane];
      }
      const float inv_sum = 1.0f / sum;
      for (int d = 0; d < head_dim; ++d) o[d] *= inv_sum;
    }
  }
}

}  // namespace gqa::cpu::attention
