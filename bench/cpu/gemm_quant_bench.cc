// Times the two paths of the CPU GEMM from compact weights
// (backend/cpu/cpu_gemm_quant.h): "dot" (activations quantized once, each
// weight row dotted with every x row: cpu::GemmQuantDot with the best kernel)
// and "tiled" (weight tiles dequantized to fp32, then sgemm:
// cpu::GemmQuantTiled), for Q8_0 / Q4_0 / Q4_1 "packed" (the same blocks 16 rows
// interleaved, the layout the backend loads them in where a SIMD kernel runs
// it: cpu::GemmQuantPacked, engine/quant/packed_blocks.h), plus the fp32 GEMM of the same weights
// dequantized
// ("f32": cpu::Gemm), on SmolLM2-135M's layer shapes, to choose
// cpu::QuantDotMaxRows(dtype) (bench/results/cpu_gemm_quant.md).
//
//   gemm_quant_bench [--threads=T] [--dtypes=q4_1,q8_0] [--benchmark_...]
//
// As gemm_dispatch_bench: each call timed, the number is the "best_us" counter
// of the "_min" aggregate (the fastest call over 3 interleaved repetitions),
// the most repeatable statistic on a shared machine.
#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "bench/common/benchmark_defaults.h"
#include "benchmark/benchmark.h"
#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/cpu_gemm.h"
#include "engine/backend/cpu/cpu_gemm_quant.h"
#include "engine/quant/dequantize.h"

ABSL_FLAG(int, threads, 0, "CPU threads (0: all)");
ABSL_FLAG(std::string, dtypes, "q4_1,q8_0", "weight dtypes, ggml names");

namespace {

using gqa::DType;
using gqa::Tensor;

struct Shape {
  const char* what;
  int n, k;
};
// SmolLM2-135M: dim 576, 9 + 2 * 3 heads of 64, hidden 1536, vocab 49152.
constexpr Shape kShapes[] = {{"qkv_960x576", 960, 576},
                             {"gate_up_3072x576", 3072, 576},
                             {"down_576x1536", 576, 1536},
                             {"lm_head_49152x576", 49152, 576}};
constexpr int kRows[] = {1, 2, 4, 8, 12, 16, 24, 32, 64, 128};
constexpr int kMaxRows = 128;

enum class Path { kDot, kTiled, kPacked, kF32 };

// Random weights of one (dtype, shape): random block bytes with every fp16
// field a small normal number (the values do not change the time, NaN and
// subnormals might), their fp32 dequantization, and x, y.
struct Buffers {
  std::vector<uint8_t> w, packed;  // packed: empty where the dtype has no packed layout
  std::vector<float> wf, x, y;
};

Buffers& BuffersFor(DType t, const Shape& s) {
  static std::map<std::pair<DType, const Shape*>, std::unique_ptr<Buffers>> cache;
  std::unique_ptr<Buffers>& b = cache[{t, &s}];
  if (b) return *b;
  b = std::make_unique<Buffers>();
  std::mt19937 rng(1);
  const int64_t nk = static_cast<int64_t>(s.n) * s.k;
  b->w.resize(gqa::DTypeBytes(t, nk));
  for (uint8_t& v : b->w) v = static_cast<uint8_t>(rng() & 0x3b);  // no fp16 exponent overflow
  if (gqa::quant::PackedDType(t) != t) {
    b->packed.resize(b->w.size());
    gqa::quant::PackRows(t, b->w.data(), b->packed.data(), s.n, s.k);
  }
  b->wf.resize(nk);
  gqa::quant::DequantizeRow(t, b->w.data(), b->wf.data(), nk);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  b->x.resize(static_cast<size_t>(kMaxRows) * s.k);
  for (float& v : b->x) v = dist(rng);
  b->y.resize(static_cast<size_t>(kMaxRows) * s.n);
  return *b;
}

void BM_GemmQuant(benchmark::State& state, DType t, const Shape& s, int m, Path path,
                  int num_threads) {
  Buffers& b = BuffersFor(t, s);
  const Tensor w = path == Path::kF32 ? Tensor::Make(b.wf.data(), DType::kF32, {s.n, s.k})
                   : path == Path::kPacked
                       ? Tensor::Make(b.packed.data(), gqa::quant::PackedDType(t), {s.n, s.k})
                       : Tensor::Make(b.w.data(), t, {s.n, s.k});
  const Tensor x = Tensor::Make(b.x.data(), DType::kF32, {m, s.k});
  const Tensor y = Tensor::Make(b.y.data(), DType::kF32, {m, s.n});
  const gqa::quant::VecDotKernel* kernel = gqa::cpu::GemmKernelFor(t);
  const double best_s = gqa::bench::TimeEachCall(state, [&] {
    if (path == Path::kDot) {
      gqa::cpu::GemmQuantDot(x, w, Tensor{}, y, *kernel, num_threads);
    } else if (path == Path::kPacked) {
      gqa::cpu::GemmQuantPacked(x, w, Tensor{}, y,
                                *gqa::cpu::PackedGemmKernelFor(gqa::quant::PackedDType(t)),
                                num_threads);
    } else if (path == Path::kTiled) {
      gqa::cpu::GemmQuantTiled(x, w, Tensor{}, y, num_threads);
    } else {
      gqa::cpu::Gemm(x, w, Tensor{}, y, num_threads);
    }
  });
  state.counters["best_us"] = best_s * 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  gqa::bench::InitializeWithDefaults(argc, argv);

  gqa::CpuBackend backend(absl::GetFlag(FLAGS_threads));  // sets OpenMP and OpenBLAS threads
  const int num_threads = backend.num_threads();
  benchmark::AddCustomContext("threads", std::to_string(num_threads));
  const std::pair<const char*, Path> paths[] = {
      {"dot", Path::kDot}, {"tiled", Path::kTiled}, {"packed", Path::kPacked}, {"f32", Path::kF32}};
  const std::vector<std::string> names = absl::StrSplit(absl::GetFlag(FLAGS_dtypes), ',');
  for (const std::string& name : names) {
    DType t = DType::kF32;
    for (int i = 0; i <= static_cast<int>(DType::kQ6_K); ++i) {
      if (gqa::DTypeName(static_cast<DType>(i)) == name) t = static_cast<DType>(i);
    }
    const gqa::quant::VecDotKernel* kernel = gqa::cpu::GemmKernelFor(t);
    if (t == DType::kF32 || kernel == nullptr) continue;
    benchmark::AddCustomContext(name, std::string(kernel->name) + ", QuantDotMaxRows " +
                                          std::to_string(gqa::cpu::QuantDotMaxRows(t)));
    for (const Shape& s : kShapes) {
      for (const int m : kRows) {
        for (const auto& [path_name, path] : paths) {
          if (path == Path::kPacked &&
              gqa::cpu::PackedGemmKernelFor(gqa::quant::PackedDType(t)) == nullptr) {
            continue;  // no packed layout, or no SIMD kernel for it on this CPU
          }
          const std::string bench =
              std::string(name) + "/" + path_name + "/" + s.what + "/m:" + std::to_string(m);
          benchmark::RegisterBenchmark(bench.c_str(), BM_GemmQuant, t, s, m, path, num_threads)
              ->UseManualTime()
              ->ComputeStatistics("min", gqa::bench::MinOf)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
