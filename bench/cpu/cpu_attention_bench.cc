// Times the CPU backend's PagedAttention alone on the shapes of long-prompt
// prefill and decode at depth, for SmolLM2-135M's attention (9 query heads,
// 3 KV heads, head_dim 64, block size 16; see bench/results/cpu_attention.md):
//   prefill_chunk/ctx:C   one 512-row prompt chunk (the engine's default
//                         max_num_batched_tokens) ending at context C;
//   prefill/tokens:N      a whole N-token prompt as the engine runs it, in
//                         chunks of 512 rows (one layer's attention);
//   decode/batch:B/ctx:C  B sequences, one new row each, at context C.
//
//   cpu_attention_bench [--threads=T] [--benchmark_...]
//
// Each call is timed; the numbers to read are the counters of the "_min"
// aggregate (over 3 interleaved repetitions): "best_ms", the fastest call's
// wall time, and "cpu_ms", the least CPU time of the process (all threads)
// a call took. On a shared, loaded machine the wall time of a multi-threaded
// call includes waiting for a descheduled thread; CPU time with
// OMP_WAIT_POLICY=passive (idle threads sleep instead of spinning) counts
// only the work. "tok_per_s" is tokens (query rows) per second of the
// fastest call for one layer: divide by the layer count for the model.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/common/benchmark_defaults.h"
#include "benchmark/benchmark.h"
#include "engine/backend/cpu/cpu_attention.h"
#include "engine/backend/cpu/cpu_backend.h"

ABSL_FLAG(int, threads, 0, "CPU threads (0: all)");

namespace {

constexpr int kHeads = 9, kKvHeads = 3, kHeadDim = 64, kBlockSize = 16, kChunk = 512;

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A paged cache holding `num_seqs` sequences of `context` tokens each (blocks
// handed out in order, as a fresh engine does) and `rows` query rows per
// sequence, the last `rows` positions of each.
struct Problem {
  int num_seqs, context, rows;
  std::vector<float> k, v, q, out;
  std::vector<int32_t> query_start, context_lens, block_tables, positions;
  gqa::AttentionMetadata meta;
  gqa::KvCacheLayer kv;

  Problem(int num_seqs_in, int context_in, int rows_in)
      : num_seqs(num_seqs_in), context(context_in), rows(rows_in) {
    const int blocks_per_seq = (context + kBlockSize - 1) / kBlockSize;
    const int num_blocks = num_seqs * blocks_per_seq;
    const size_t cache = static_cast<size_t>(num_blocks) * kKvHeads * kBlockSize * kHeadDim;
    k = RandomFloats(cache, 1);
    v = RandomFloats(cache, 2);
    q = RandomFloats(static_cast<size_t>(num_seqs) * rows * kHeads * kHeadDim, 3);
    out.resize(q.size());
    query_start = {0};
    for (int s = 0; s < num_seqs; ++s) {
      query_start.push_back(query_start.back() + rows);
      context_lens.push_back(context);
      for (int b = 0; b < blocks_per_seq; ++b) block_tables.push_back(s * blocks_per_seq + b);
      for (int i = 0; i < rows; ++i) positions.push_back(context - rows + i);
    }
    meta.num_seqs = num_seqs;
    meta.num_tokens = num_seqs * rows;
    meta.max_query_len = rows;
    meta.max_context_len = context;
    meta.max_blocks_per_seq = blocks_per_seq;
    meta.query_start = query_start.data();
    meta.context_lens = context_lens.data();
    meta.block_tables = block_tables.data();
    meta.positions = positions.data();
    kv.k =
        gqa::Tensor::Make(k.data(), gqa::DType::kF32, {num_blocks, kKvHeads, kBlockSize, kHeadDim});
    kv.v =
        gqa::Tensor::Make(v.data(), gqa::DType::kF32, {num_blocks, kKvHeads, kBlockSize, kHeadDim});
  }

  void Run(int num_threads) {
    const int n = num_seqs * rows;
    gqa::cpu::PagedAttention(
        gqa::Tensor::Make(q.data(), gqa::DType::kF32, {n, kHeads * kHeadDim}), kv, meta,
        {kHeads, kKvHeads, kHeadDim}, 1.0f / std::sqrt(static_cast<float>(kHeadDim)),
        gqa::Tensor::Make(out.data(), gqa::DType::kF32, {n, kHeads * kHeadDim}), num_threads);
  }
};

// Runs `calls` (each a PagedAttention of `rows` query rows) once per
// iteration; reports the fastest iteration.
double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

template <typename Fn>
void TimeCalls(benchmark::State& state, int64_t tokens, Fn&& fn) {
  double best_s = std::numeric_limits<double>::infinity();
  double best_cpu_s = std::numeric_limits<double>::infinity();
  for (auto _ : state) {
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    benchmark::ClobberMemory();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    best_s = std::min(best_s, s);
    best_cpu_s = std::min(best_cpu_s, ProcessCpuSeconds() - cpu0);
  }
  state.counters["best_ms"] = best_s * 1e3;
  state.counters["cpu_ms"] = best_cpu_s * 1e3;
  state.counters["tok_per_s"] = static_cast<double>(tokens) / best_s;
}

void BM_PrefillChunk(benchmark::State& state, int context, int num_threads) {
  Problem p(1, context, std::min(kChunk, context));
  TimeCalls(state, p.rows, [&] { p.Run(num_threads); });
}

// The whole prompt: chunk i attends rows [512 i, 512 (i + 1)) to context
// 512 (i + 1) (the cache already holds all N tokens; each chunk sees its part).
void BM_Prefill(benchmark::State& state, int tokens, int num_threads) {
  std::vector<Problem> chunks;
  for (int begin = 0; begin < tokens; begin += kChunk) {
    const int end = std::min(begin + kChunk, tokens);
    chunks.emplace_back(1, end, end - begin);
  }
  TimeCalls(state, tokens, [&] {
    for (Problem& c : chunks) c.Run(num_threads);
  });
}

void BM_Decode(benchmark::State& state, int batch, int context, int num_threads) {
  Problem p(batch, context, 1);
  TimeCalls(state, batch, [&] { p.Run(num_threads); });
}

}  // namespace

int main(int argc, char** argv) {
  gqa::bench::InitializeWithDefaults(argc, argv, "0.2");  // then absl: --threads

  gqa::CpuBackend backend(absl::GetFlag(FLAGS_threads));  // resolves 0 to every core
  const int threads = backend.num_threads();
  benchmark::AddCustomContext("threads", std::to_string(threads));
  auto add = [](const std::string& name, auto fn, auto... args) {
    benchmark::RegisterBenchmark(name.c_str(), fn, args...)
        ->UseManualTime()
        ->ComputeStatistics("min", gqa::bench::MinOf)
        ->Unit(benchmark::kMillisecond);
  };
  for (int context : {512, 2048, 8000})
    add("prefill_chunk/ctx:" + std::to_string(context), BM_PrefillChunk, context, threads);
  for (int tokens : {512, 2048, 8000})
    add("prefill/tokens:" + std::to_string(tokens), BM_Prefill, tokens, threads);
  for (auto [batch, context] : {std::pair{1, 512}, {1, 4000}, {1, 8000}, {16, 512}, {16, 4000}})
    add("decode/batch:" + std::to_string(batch) + "/ctx:" + std::to_string(context), BM_Decode,
        batch, context, threads);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
