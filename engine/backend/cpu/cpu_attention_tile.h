// The flash-attention tile of the CPU backend's PagedAttention: a tile of
// queries (rows of one sequence x the query heads of one KV group) against a
// range of that sequence's cached keys, with an online softmax.
//
// Queries run across SIMD lanes: the tile's queries are laid out transposed
// (qt [head_dim][lanes]), so a score tile is st[key][lanes] = sum_d k[d] *
// qt[d] (a broadcast of one cached K element times a vector of queries) and
// the output accumulates as acc[d][lanes] += v[d] * p[key][lanes]. K and V
// are read straight from the paged cache, row by row, once per tile: nothing
// is transposed per key block, and every G query heads of a group (and every
// row of the tile) share each loaded K/V row.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_vec16.h"

namespace gqa::cpu::attention {

// Queries (rows x heads) in one tile, at most: four vectors of lanes.
inline constexpr int kMaxTileQueries = 64;
// Keys scored, softmaxed and accumulated per step.
inline constexpr int kKeyTile = 64;

// One tile of work: rows [row_begin, row_begin + num_rows) of the ragged
// batch (all of sequence `seq`) x query heads [head_begin, head_begin +
// num_heads) (all of KV group kv_head), attended to key positions
// [key_begin, key_end) of the sequence (each row still sees only positions
// <= its own). Query qi of the tile is row qi / num_heads, head qi % num_heads.
struct QueryTile {
  int seq;
  int kv_head;
  int row_begin;
  int num_rows;
  int head_begin;
  int num_heads;
  int key_begin;  // a multiple of kKeyTile
  int key_end;
  int num_queries() const { return num_rows * num_heads; }
};

// What every tile of one PagedAttention call shares.
struct TileInputs {
  const Tensor* q;  // [num_tokens, n_heads * head_dim] f32 rows
  const KvCacheLayer* kv;
  const AttentionMetadata* meta;
  int n_kv_heads;
  int head_dim;
  int block_size;
  float scale;  // of the scores, before the softmax
};

// Element offset of the cached K (or V) row of position `key` of the tile's
// sequence and KV head in [num_blocks, n_kv_heads, block_size, head_dim].
int64_t CacheRowOffset(const TileInputs& in, const QueryTile& tile, int key);

// The online-softmax state of a tile after AttendTile, in base 2: for query
// lane i, max[i] is the largest scale * log2(e) * q.k seen, sum[i] the sum of
// 2^(s - max[i]) and acc[d * lanes + i] the sum of 2^(s - max[i]) * v[d].
// Lanes past the tile's queries hold zeros. A lane that saw no key has
// max -inf, sum 0 and acc 0.
struct TileState {
  int lanes = 0;  // num_queries rounded up to kLanes
  const float* max = nullptr;
  const float* sum = nullptr;
  const float* acc = nullptr;  // [head_dim, lanes]
};

// Tiles of at most this many queries (decode: one row, G heads) with
// head_dim a multiple of kLanes run AttendFew: lanes over head_dim instead of
// queries, which would leave most lanes idle.
inline constexpr int kMaxFewQueries = 8;

// Per-thread buffers of AttendTile, reused from tile to tile.
class TileScratch {
 public:
  // Runs the tile and returns its state, valid until the next call.
  TileState AttendTile(const TileInputs& in, const QueryTile& tile);

 private:
  // Queries across lanes (cpu_attention_tile.cc).
  template <int kVectors>
  TileState Attend(const TileInputs& in, const QueryTile& tile);
  // head_dim across lanes, kQueries <= kMaxFewQueries (cpu_attention_decode.cc).
  TileState AttendFew(const TileInputs& in, const QueryTile& tile);
  template <int kQueries>
  TileState AttendFewImpl(const TileInputs& in, const QueryTile& tile);

  // In vectors of kLanes floats (64-byte aligned): `vectors` = lanes / kLanes.
  std::vector<Vec16> qt_;       // [head_dim, vectors] scaled queries, transposed
  std::vector<Vec16> acc_;      // [head_dim, vectors]
  std::vector<Vec16> scores_;   // [kKeyTile + kLanes, vectors] (room for padded key strips)
  std::vector<Vec16> stats_;    // max, sum, position of each lane: [3, vectors]
  std::vector<Vec16> few_acc_;  // AttendFew: [kQueries, head_dim / kLanes]
  // Rows of the current key tile, [kKeyTile + kLanes] each (FindRows).
  std::vector<const float*> k_rows_, v_rows_;
  std::vector<const uint16_t*> k_rows_bf16_, v_rows_bf16_;
  std::vector<float> widened_;  // [2 (K, V), kKeyTile, head_dim]

  void ResizeRows() {
    for (auto* rows : {&k_rows_, &v_rows_}) rows->resize(kKeyTile + kLanes);
    for (auto* rows : {&k_rows_bf16_, &v_rows_bf16_}) rows->resize(kKeyTile + kLanes);
  }
  // The cached K/V rows of keys first_key + j, j < num_keys <= kKeyTile, of
  // the tile's sequence and KV head, then the last one again up to
  // j < num_keys + kLanes (kernels work in whole strips of keys). An f32
  // cache: k_rows_ / v_rows_ point into it. A bf16 cache: with `widen`, the
  // rows are converted into widened_ and k_rows_ / v_rows_ point there (the
  // prefill kernel reads each element many times); without, k_rows_bf16_ /
  // v_rows_bf16_ point into the cache (AttendFew widens as it loads).
  void FindRows(const TileInputs& in, const QueryTile& tile, int first_key, int num_keys,
                bool widen);
};

// Writes out[row, head] = acc / sum for every query of the tile from its
// state; out [num_tokens, n_heads * head_dim] f32 rows.
void WriteTileOutput(const TileState& state, const QueryTile& tile, int head_dim, Tensor& out);

// As WriteTileOutput for a tile whose keys were split into `num_parts`
// ranges, each run as its own tile: merges the parts' states (rescaling each
// to the common max) before normalizing.
void WriteMergedOutput(const TileState* parts, int num_parts, const QueryTile& tile, int head_dim,
                       Tensor& out);

}  // namespace gqa::cpu::attention
