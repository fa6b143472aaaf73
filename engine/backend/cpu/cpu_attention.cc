#include "engine/backend/cpu/cpu_attention.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <vector>

#include "engine/backend/cpu/cpu_attention_tile.h"
#include "engine/backend/cpu/cpu_util.h"

namespace gqa::cpu {
namespace {

using attention::kKeyTile;
using attention::kMaxTileQueries;
using attention::QueryTile;
using attention::TileInputs;
using attention::TileScratch;
using attention::TileState;

// Queries (rows x heads of one group) per tile the planner aims for: three
// vectors of lanes, 16 rows at G = 3. More rows per tile read each K/V row
// for more queries; fewer make more tiles for the threads.
constexpr int kTargetTileQueries = 48;
// Below this many tiles per thread the keys of long tiles are split into
// ranges run as separate work items and merged at the end (split-K), so
// batch-1 decode at depth keeps every thread busy.
constexpr int kTilesPerThread = 8;
// A split key range holds at least this many keys: the merge and the tile's
// set-up stay small against the range's work.
constexpr int kMinSplitKeys = 256;

// A tile split into key ranges: its parts' states wait in `slots` (one
// SlotFloats(lanes) each, parts in order) until they are merged.
struct Merge {
  QueryTile tile;
  int num_parts;
  int64_t first_slot;  // offset into the slot buffer, in floats
};

struct WorkItem {
  QueryTile tile;
  int64_t cost;    // queries x keys visited, for scheduling the big ones first
  int merge = -1;  // index of the tile's Merge; -1: a whole tile, written directly
  int part = 0;
};

struct Plan {
  std::vector<WorkItem> items;
  std::vector<Merge> merges;
  int64_t slot_floats = 0;  // the slot buffer's size
  int64_t total_cost = 0;
};

int LanesOf(const QueryTile& tile) { return (tile.num_queries() + kLanes - 1) / kLanes * kLanes; }

// A tile state's max, sum and acc [head_dim, lanes], stored one after the other.
int64_t SlotFloats(int lanes, int head_dim) { return int64_t{2 + head_dim} * lanes; }

// Tiles of (sequence, rows, KV head, heads of the group) covering every
// query, each over all the keys its rows see; then, when there are too few
// for the threads, long tiles split into key ranges.
Plan MakePlan(const AttentionMetadata& meta, const AttentionShape& shape, int num_threads) {
  const int group = shape.n_heads / shape.n_kv_heads;
  const int heads_per_tile = std::min(group, kMaxTileQueries);
  const int rows_per_tile = std::max(1, kTargetTileQueries / heads_per_tile);
  std::vector<WorkItem> tiles;
  int64_t total_keys = 0;
  for (int s = 0; s < meta.num_seqs; ++s) {
    const int row_first = meta.query_start[s], row_last = meta.query_start[s + 1];
    const int first_pos = meta.context_lens[s] - (row_last - row_first);
    for (int begin = row_first; begin < row_last; begin += rows_per_tile) {
      const int num_rows = std::min(rows_per_tile, row_last - begin);
      const int pos_begin = first_pos + (begin - row_first);
      const int key_end = pos_begin + num_rows;  // the last row sees keys 0 .. key_end - 1
      for (int kv_head = 0; kv_head < shape.n_kv_heads; ++kv_head) {
        for (int h = 0; h < group; h += heads_per_tile) {
          const QueryTile tile{
              s, kv_head, begin, num_rows, kv_head * group + h, std::min(heads_per_tile, group - h),
              0, key_end};
          tiles.push_back({tile, int64_t{tile.num_queries()} * (pos_begin + key_end + 1) / 2});
          total_keys += key_end;
        }
      }
    }
  }

  Plan plan;
  const int64_t min_tiles = int64_t{kTilesPerThread} * num_threads;
  int64_t split_keys = INT64_MAX;  // no split
  if (num_threads > 1 && static_cast<int64_t>(tiles.size()) < min_tiles) {
    split_keys = std::max<int64_t>(kMinSplitKeys, (total_keys + min_tiles - 1) / min_tiles);
    split_keys = (split_keys + kKeyTile - 1) / kKeyTile * kKeyTile;
  }
  for (const WorkItem& whole : tiles) {
    // Ceiling division that cannot overflow: key_end + split_keys - 1 would
    // (signed overflow, UB) when split_keys is INT64_MAX, i.e. no split.
    const int num_parts = static_cast<int>((whole.tile.key_end - 1) / split_keys + 1);
    if (num_parts <= 1) {
      plan.items.push_back(whole);
      continue;
    }
    const int merge = static_cast<int>(plan.merges.size());
    plan.merges.push_back({whole.tile, num_parts, plan.slot_floats});
    plan.slot_floats += num_parts * SlotFloats(LanesOf(whole.tile), shape.head_dim);
    for (int p = 0; p < num_parts; ++p) {
      QueryTile part = whole.tile;
      part.key_begin = static_cast<int>(p * split_keys);
      part.key_end = static_cast<int>(std::min<int64_t>(part.key_begin + split_keys, part.key_end));
      plan.items.push_back(
          {part, int64_t{part.num_queries()} * (part.key_end - part.key_begin), merge, p});
    }
  }
  // Longest first, so the dynamic schedule does not end on one long item.
  std::stable_sort(plan.items.begin(), plan.items.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.cost > b.cost; });
  for (const WorkItem& item : plan.items) plan.total_cost += item.cost;
  return plan;
}

void StoreState(const TileState& state, int head_dim, float* slot) {
  const int lanes = state.lanes;
  std::copy_n(state.max, lanes, slot);
  std::copy_n(state.sum, lanes, slot + lanes);
  std::copy_n(state.acc, static_cast<int64_t>(head_dim) * lanes, slot + 2 * lanes);
}

TileState LoadState(const float* slot, int lanes) {
  return {lanes, slot, slot + lanes, slot + 2 * lanes};
}

}  // namespace

void PagedAttention(const Tensor& q, const KvCacheLayer& kv, const AttentionMetadata& meta,
                    const AttentionShape& shape, float scale, Tensor out, int num_threads) {
  assert(shape.n_kv_heads > 0 && shape.n_heads % shape.n_kv_heads == 0);
  assert(kv.k.dim(1) == shape.n_kv_heads && kv.k.dim(3) == shape.head_dim);
  assert(kv.k.dtype == kv.v.dtype && (kv.k.dtype == DType::kF32 || kv.k.dtype == DType::kBF16));
  assert(q.cols() == static_cast<int64_t>(shape.n_heads) * shape.head_dim);
  const Plan plan = MakePlan(meta, shape, std::max(1, num_threads));
  const TileInputs inputs{
      &q, &kv, &meta, shape.n_kv_heads, shape.head_dim, static_cast<int>(kv.k.dim(2)), scale};
  const int head_dim = shape.head_dim;
  std::vector<float> slots(plan.slot_floats);
  const int64_t num_items = static_cast<int64_t>(plan.items.size());
  const int64_t num_merges = static_cast<int64_t>(plan.merges.size());
  [[maybe_unused]] const bool parallel =
      num_items > 1 && plan.total_cost * head_dim >= kMinParallelElems;

#pragma omp parallel num_threads(num_threads) if (parallel)
  {
    TileScratch scratch;  // one per thread, reused across its work items
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < num_items; ++i) {
      const WorkItem& item = plan.items[i];
      const TileState state = scratch.AttendTile(inputs, item.tile);
      if (item.merge < 0) {
        attention::WriteTileOutput(state, item.tile, head_dim, out);
      } else {
        const Merge& merge = plan.merges[item.merge];
        StoreState(state, head_dim,
                   &slots[merge.first_slot + item.part * SlotFloats(state.lanes, head_dim)]);
      }
    }
    // (the loop's implicit barrier: every part is stored before any merge)
#pragma omp for schedule(dynamic, 1)
    for (int64_t m = 0; m < num_merges; ++m) {
      const Merge& merge = plan.merges[m];
      const int lanes = LanesOf(merge.tile);
      std::vector<TileState> parts;
      for (int p = 0; p < merge.num_parts; ++p)
        parts.push_back(
            LoadState(&slots[merge.first_slot + p * SlotFloats(lanes, head_dim)], lanes));
      attention::WriteMergedOutput(parts.data(), merge.num_parts, merge.tile, head_dim, out);
    }
  }
}

}  // namespace gqa::cpu
