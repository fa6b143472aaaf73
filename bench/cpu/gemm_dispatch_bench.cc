// Times the two GEMM kernels of the CPU backend (cpu::GemmMatVec and
// cpu::GemmBlas) on decode- to prefill-sized shapes, to choose
// cpu::MatVecMaxRows(); also OpenBLAS's own threading (one sgemm call with
// openblas_set_num_threads(T)), the alternative GemmBlas's OpenMP split replaced.
//
//   gemm_dispatch_bench [--threads=T] [--benchmark_...]
//
// A Google Benchmark program: one benchmark per kernel/shape/m, named
// "matvec|sgemm|sgemm_blas_threads/<shape>/m:<m>", each call timed. Defaults
// (the same --benchmark_ flag given overrides them): 3 repetitions of at least
// 50 ms each, the repetitions of all benchmarks interleaved in random order,
// and only the aggregates reported; the number is the "best_us" counter of the
// "_min" aggregate, the fastest single call over all repetitions: on a shared,
// noisy machine the most repeatable statistic (the mean time per call of a
// repetition counts every preemption: with more runnable threads than cores an
// OpenMP barrier can wait a whole time slice). bench/cpu/gemm_dispatch_table.py
// runs it under each OPENBLAS_CORETYPE and writes the markdown table.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/common/benchmark_defaults.h"
#include "benchmark/benchmark.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/cpu_gemm.h"

ABSL_FLAG(int, threads, 0, "CPU threads (0: all)");

namespace {

struct Shape {
  const char* what;  // benchmark name part, no spaces
  int n;             // rows of w (output features)
  int k;             // columns of w (input features)
};

// stories15M (dim 288, hidden 768, vocab 32000) layers and a 768 -> 2048 layer.
constexpr Shape kShapes[] = {
    {"wo_288x288", 288, 288},   {"qkv_864x288", 864, 288},         {"gate_up_1536x288", 1536, 288},
    {"down_288x768", 288, 768}, {"lm_head_32000x288", 32000, 288}, {"2048x768", 2048, 768},
};
constexpr int kRows[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128};
constexpr int kMaxRows = 128;

enum class Kernel { kMatVec, kBlas, kBlasThreads };

// Random w [n, k], x [kMaxRows, k] and y [kMaxRows, n] of one shape, made once
// and shared by its benchmarks (lm_head's w is 37 MB).
struct Buffers {
  std::vector<float> w, x, y;
};

Buffers& BuffersFor(const Shape& s) {
  static std::map<const Shape*, std::unique_ptr<Buffers>> cache;
  std::unique_ptr<Buffers>& b = cache[&s];
  if (!b) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    b = std::make_unique<Buffers>();
    b->w.resize(static_cast<size_t>(s.n) * s.k);
    b->x.resize(static_cast<size_t>(kMaxRows) * s.k);
    b->y.resize(static_cast<size_t>(kMaxRows) * s.n);
    for (float& v : b->w) v = dist(rng);
    for (float& v : b->x) v = dist(rng);
  }
  return *b;
}

void BM_Gemm(benchmark::State& state, const Shape& s, int m, Kernel kernel, int num_threads) {
  Buffers& b = BuffersFor(s);
  const gqa::Tensor wt = gqa::Tensor::Make(b.w.data(), gqa::DType::kF32, {s.n, s.k});
  const gqa::Tensor xt = gqa::Tensor::Make(b.x.data(), gqa::DType::kF32, {m, s.k});
  const gqa::Tensor yt = gqa::Tensor::Make(b.y.data(), gqa::DType::kF32, {m, s.n});
  // kBlasThreads: one slice, OpenBLAS's threads; the others keep it at 1.
  if (kernel == Kernel::kBlasThreads) openblas_set_num_threads(num_threads);
  // Each call is timed (manual time): the "best_us" counter is the fastest
  // call, what this machine gives a kernel when nothing else runs on its cores.
  const double best_s = gqa::bench::TimeEachCall(state, [&] {
    if (kernel == Kernel::kMatVec) {
      gqa::cpu::GemmMatVec(xt, wt, gqa::Tensor{}, yt, num_threads);
    } else {
      gqa::cpu::GemmBlas(xt, wt, gqa::Tensor{}, yt, kernel == Kernel::kBlas ? num_threads : 1);
    }
  });
  state.counters["best_us"] = best_s * 1e6;
  if (kernel == Kernel::kBlasThreads) openblas_set_num_threads(1);
}

}  // namespace

int main(int argc, char** argv) {
  gqa::bench::InitializeWithDefaults(argc, argv);  // then absl: --threads

  gqa::CpuBackend backend(absl::GetFlag(FLAGS_threads));  // sets OpenMP and OpenBLAS threads
  const int num_threads = backend.num_threads();
  benchmark::AddCustomContext("threads", std::to_string(num_threads));
  benchmark::AddCustomContext("MatVecMaxRows", std::to_string(gqa::cpu::MatVecMaxRows()));
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());

  const std::pair<const char*, Kernel> kernels[] = {{"matvec", Kernel::kMatVec},
                                                    {"sgemm", Kernel::kBlas},
                                                    {"sgemm_blas_threads", Kernel::kBlasThreads}};
  for (const Shape& s : kShapes) {
    for (const int m : kRows) {
      for (const auto& [name, kernel] : kernels) {
        const std::string bench_name = std::string(name) + "/" + s.what + "/m:" + std::to_string(m);
        benchmark::RegisterBenchmark(bench_name.c_str(), BM_Gemm, s, m, kernel, num_threads)
            ->UseManualTime()
            ->ComputeStatistics("min", gqa::bench::MinOf)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
