// AttendFew: the attention tile for a handful of queries (decode: one row x
// the G heads of a group), with head_dim across the lanes. Scores are dot
// products of whole K rows, summed across lanes 16 keys at a time; the
// weighted sum of V rows is vector FMAs over head_dim. Each K/V row is read
// once for all the tile's queries.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "engine/backend/cpu/cpu_attention_tile.h"
#include "engine/backend/cpu/cpu_util.h"
#include "engine/common/dtype.h"

namespace gqa::cpu::attention {
namespace {

constexpr int kStrips = kKeyTile / kLanes;  // 16-key strips per key tile

// Lane j of the result = the sum of v[j]'s 16 lanes. A tree of 15
// shuffle-and-add steps: each halves the lanes a sum spans and doubles the
// sums per vector; the sums come out in bit-reversed lane order, which the
// last shuffle undoes.
inline Vec16 SumEach(const Vec16 (&v)[kLanes]) {
  Vec16 b[8], c[4], d[2];
  for (int i = 0; i < 8; ++i) {
    const Vec16 x = v[2 * i], y = v[2 * i + 1];
    b[i] =
        __builtin_shufflevector(x, y, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
        __builtin_shufflevector(x, y, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  }
  for (int i = 0; i < 4; ++i) {
    const Vec16 x = b[2 * i], y = b[2 * i + 1];
    c[i] =
        __builtin_shufflevector(x, y, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27) +
        __builtin_shufflevector(x, y, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  }
  for (int i = 0; i < 2; ++i) {
    const Vec16 x = c[2 * i], y = c[2 * i + 1];
    d[i] =
        __builtin_shufflevector(x, y, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29) +
        __builtin_shufflevector(x, y, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
  }
  const Vec16 e = __builtin_shufflevector(d[0], d[1], 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12,
                                          28, 14, 30) +
                  __builtin_shufflevector(d[0], d[1], 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13,
                                          29, 15, 31);
  return __builtin_shufflevector(e, e, 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15);
}

inline float LaneMax(Vec16 v) {
  float m = v[0];
  for (int l = 1; l < kLanes; ++l) m = std::max(m, v[l]);
  return m;
}

inline float LaneSum(Vec16 v) {
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += v[l];
  return s;
}

// scores[g * kStrips + s] lane l = q_g . k_rows[16 s + l] for the strips
// covering num_keys (k_rows valid through the last strip).
template <int kQueries, typename T>
void ScoreFew(const Vec16* q, int vectors, const T* const* k_rows, int num_keys, Vec16* scores) {
  for (int s = 0; s * kLanes < num_keys; ++s) {
    for (int g = 0; g < kQueries; ++g) {
      const Vec16* q_g = q + g * vectors;
      Vec16 part[kLanes];
#pragma GCC unroll 16
      for (int j = 0; j < kLanes; ++j) {
        const T* k = k_rows[s * kLanes + j];
        Vec16 acc = q_g[0] * LoadUnaligned(k);
        for (int v = 1; v < vectors; ++v) acc += q_g[v] * LoadUnaligned(k + v * kLanes);
        part[j] = acc;
      }
      scores[g * kStrips + s] = SumEach(part);
    }
  }
}

// acc[g, v] = acc[g, v] * alpha[g] + sum_j weights[g * kKeyTile + j] * v_j[v]
// over all vectors v of head_dim, kChunk vectors at a time (kQueries x
// kChunk accumulators).
template <int kQueries, int kChunk, typename T>
void AccumulateFew(const float* weights, const T* const* v_rows, int num_keys, int vectors,
                   const float* alpha, Vec16* acc) {
  for (int v0 = 0; v0 < vectors; v0 += kChunk) {
    Vec16 a[kQueries][kChunk];
#pragma GCC unroll 8
    for (int g = 0; g < kQueries; ++g)
#pragma GCC unroll 4
      for (int c = 0; c < kChunk; ++c) a[g][c] = acc[g * vectors + v0 + c] * alpha[g];
    for (int j = 0; j < num_keys; ++j) {
      const T* row = v_rows[j] + v0 * kLanes;
      Vec16 v[kChunk];
#pragma GCC unroll 4
      for (int c = 0; c < kChunk; ++c) v[c] = LoadUnaligned(row + c * kLanes);
#pragma GCC unroll 8
      for (int g = 0; g < kQueries; ++g) {
        const float w = weights[g * kKeyTile + j];
#pragma GCC unroll 4
        for (int c = 0; c < kChunk; ++c) a[g][c] += v[c] * w;
      }
    }
#pragma GCC unroll 8
    for (int g = 0; g < kQueries; ++g)
#pragma GCC unroll 4
      for (int c = 0; c < kChunk; ++c) acc[g * vectors + v0 + c] = a[g][c];
  }
}

// Asks for the K and V rows of keys [first_key, first_key + num_keys) of the
// tile, one key tile ahead of the kernels: the rows sit in blocks scattered
// over the pool, 16 keys a block, too short a run for the hardware
// prefetchers to get ahead. Measured at 3.2k tokens of context, batch-1
// decode: 1.04x with an f32 cache, 1.09x with bf16
// (bench/results/cpu_kv_cache_bf16.md).
void PrefetchRows(const TileInputs& in, const QueryTile& tile, int first_key, int num_keys) {
  const size_t elem = DTypeSize(in.kv->k.dtype);
  const size_t row_bytes = static_cast<size_t>(in.head_dim) * elem;
  for (int key = first_key; key < first_key + num_keys; ++key) {
    const size_t at = static_cast<size_t>(CacheRowOffset(in, tile, key)) * elem;
    for (size_t b = 0; b < row_bytes; b += 64) {
      __builtin_prefetch(static_cast<const char*>(in.kv->k.data) + at + b);
      __builtin_prefetch(static_cast<const char*>(in.kv->v.data) + at + b);
    }
  }
}

// AccumulateFew with the widest chunk that divides `vectors` (4 only while
// the kQueries x 4 accumulators fit the registers).
template <int kQueries, typename T>
void AccumulateFewChunked(const float* weights, const T* const* v_rows, int num_keys, int vectors,
                          const float* alpha, Vec16* acc) {
  if (vectors % 4 == 0 && kQueries <= 6) {
    AccumulateFew<kQueries, 4>(weights, v_rows, num_keys, vectors, alpha, acc);
  } else if (vectors % 2 == 0) {
    AccumulateFew<kQueries, 2>(weights, v_rows, num_keys, vectors, alpha, acc);
  } else {
    AccumulateFew<kQueries, 1>(weights, v_rows, num_keys, vectors, alpha, acc);
  }
}

}  // namespace

template <int kQueries>
TileState TileScratch::AttendFewImpl(const TileInputs& in, const QueryTile& tile) {
  const int head_dim = in.head_dim, vectors = head_dim / kLanes;
  const AttentionMetadata& meta = *in.meta;
  qt_.resize(static_cast<size_t>(kQueries) * vectors);
  few_acc_.assign(static_cast<size_t>(kQueries) * vectors, Vec16{});
  scores_.resize(std::max<size_t>(scores_.size(), kQueries * kStrips));
  ResizeRows();
  // A bf16 cache is read as it is, each row widened as it is loaded: the
  // bytes from memory are half of an f32 cache's.
  const bool bf16 = in.kv->k.dtype == DType::kBF16;

  // Queries pre-multiplied by scale * log2(e): the softmax runs in base 2.
  const int row_first = meta.query_start[tile.seq];
  const int q_len = meta.query_start[tile.seq + 1] - row_first;
  const int first_pos = meta.context_lens[tile.seq] - q_len + (tile.row_begin - row_first);
  const float q_scale = in.scale * kLog2E;
  int position[kQueries];
  float max[kQueries], alpha[kQueries];
  Vec16 sum[kQueries];  // lane-wise partial sums, rescaled with the max
  for (int g = 0; g < kQueries; ++g) {
    const int r = g / tile.num_heads, h = tile.head_begin + g % tile.num_heads;
    const float* query = RowF32(*in.q, tile.row_begin + r) + h * head_dim;
    for (int v = 0; v < vectors; ++v)
      qt_[g * vectors + v] = LoadUnaligned(query + v * kLanes) * q_scale;
    position[g] = first_pos + r;
    max[g] = -kInf;
    sum[g] = Vec16{};
  }

  const Vec16 lane_index = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const int key_end = std::min(tile.key_end, first_pos + tile.num_rows);
  Vec16* scores = scores_.data();
  for (int first_key = tile.key_begin; first_key < key_end; first_key += kKeyTile) {
    const int num_keys = std::min(kKeyTile, key_end - first_key);
    const int strips = (num_keys + kLanes - 1) / kLanes;
    FindRows(in, tile, first_key, num_keys, /*widen=*/false);
    const int next_key = first_key + kKeyTile;
    if (next_key < key_end)
      PrefetchRows(in, tile, next_key, std::min(kKeyTile, key_end - next_key));
    if (bf16) {
      ScoreFew<kQueries>(qt_.data(), vectors, k_rows_bf16_.data(), num_keys, scores);
    } else {
      ScoreFew<kQueries>(qt_.data(), vectors, k_rows_.data(), num_keys, scores);
    }
    // Keys past a query's position, and the padding keys of the last strip, get -inf.
    const int last_key = first_key + num_keys - 1;
    const bool mask = last_key > first_pos || num_keys % kLanes != 0;
    for (int g = 0; g < kQueries; ++g) {
      Vec16* s_g = scores + g * kStrips;
      if (mask) {
        const Vec16 limit = Splat(static_cast<float>(std::min(position[g], last_key)));
        for (int s = 0; s < strips; ++s) {
          const Vec16 key = lane_index + static_cast<float>(first_key + s * kLanes);
          s_g[s] = key > limit ? Splat(-kInf) : s_g[s];
        }
      }
      Vec16 tile_max = s_g[0];
      for (int s = 1; s < strips; ++s) tile_max = Max(tile_max, s_g[s]);
      const float new_max = std::max(max[g], LaneMax(tile_max));
      // A query with no visible key yet keeps max -inf and weights 0.
      const float base = new_max == -kInf ? 0.0f : new_max;
      alpha[g] = std::exp2(max[g] - base);
      const Vec16 base_v = Splat(base);
      Vec16 tile_sum = Vec16{};
      for (int s = 0; s < strips; ++s) {
        s_g[s] = Exp2(s_g[s] - base_v);
        tile_sum += s_g[s];
      }
      sum[g] = sum[g] * alpha[g] + tile_sum;
      max[g] = new_max;
    }
    const float* weights = reinterpret_cast<const float*>(scores);
    if (bf16) {
      AccumulateFewChunked<kQueries>(weights, v_rows_bf16_.data(), num_keys, vectors, alpha,
                                     few_acc_.data());
    } else {
      AccumulateFewChunked<kQueries>(weights, v_rows_.data(), num_keys, vectors, alpha,
                                     few_acc_.data());
    }
  }

  // The state in TileState's layout: query g in lane g of one vector.
  stats_.assign(2, Vec16{});
  acc_.resize(head_dim);
  for (int g = 0; g < kQueries; ++g) {
    stats_[0][g] = max[g];
    stats_[1][g] = LaneSum(sum[g]);
  }
  for (int d = 0; d < head_dim; ++d) {
    Vec16 column = Vec16{};
    for (int g = 0; g < kQueries; ++g) column[g] = few_acc_[g * vectors + d / kLanes][d % kLanes];
    acc_[d] = column;
  }
  return {kLanes, reinterpret_cast<const float*>(&stats_[0]),
          reinterpret_cast<const float*>(&stats_[1]), reinterpret_cast<const float*>(acc_.data())};
}

TileState TileScratch::AttendFew(const TileInputs& in, const QueryTile& tile) {
  assert(tile.num_queries() <= kMaxFewQueries && in.head_dim % kLanes == 0);
  switch (tile.num_queries()) {
    case 1:
      return AttendFewImpl<1>(in, tile);
    case 2:
      return AttendFewImpl<2>(in, tile);
    case 3:
      return AttendFewImpl<3>(in, tile);
    case 4:
      return AttendFewImpl<4>(in, tile);
    case 5:
      return AttendFewImpl<5>(in, tile);
    case 6:
      return AttendFewImpl<6>(in, tile);
    case 7:
      return AttendFewImpl<7>(in, tile);
    default:
      return AttendFewImpl<8>(in, tile);
  }
}

}  // namespace gqa::cpu::attention
