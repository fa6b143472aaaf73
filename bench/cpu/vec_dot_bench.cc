// Times every dot-product kernel of engine/quant (quant::VecDotKernelsFor, for
// every weight dtype: a family's new kernels appear here with no edit) on one
// matrix-vector product, single thread: quantize_activation of one x row,
// then vec_dot of every weight row with it. Weight bytes read per second is
// the figure of merit of a memory-bound decode step; the memory_read
// benchmarks measure this machine's single-thread read bandwidth (the
// 64-lane sum of bench/common/memory_bandwidth.h) at a cache-resident size
// and at one far beyond the caches, to compare with.
//
//   vec_dot_bench [--benchmark_filter=q4_1] [--benchmark_...]
//
// Names: "vec_dot/<kernel>/<rows>x<k>" (kernel as "q4_1/avx512vnni"),
// "quantize/<kernel>/<k>" (its quantize_activation of one row of 576, 1536
// for the K-quants whose rows are whole 256-blocks; part of every
// vec_dot benchmark's call), "rows/<kernel>/<rows>x<k>/m<1|16>/<loop|entry>" (m x rows
// against the matrix in tiles of 8 weight rows, as cpu::GemmQuantDot: vec_dot per pair,
// or the kernel's vec_dot_wrows (m = 1) / vec_dot_rows (m = 16) where it has them) and
// "memory_read/<MiB>MiB". Each call is timed (manual time); per
// repetition, "best_us" is its fastest call and "GBps" the weight bytes of one call (rows *
// DTypeBytes(dtype, k)) over it. Read best_us of the "_min" aggregate and GBps of the "_max" one:
// the fastest call over all repetitions, on a shared, noisy machine the most repeatable statistic
// (gemm_dispatch_bench.cc says why). Defaults as there: 3 repetitions of >= 50 ms, interleaved,
// aggregates only.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/common/benchmark_defaults.h"
#include "bench/common/memory_bandwidth.h"
#include "benchmark/benchmark.h"
#include "engine/common/dtype.h"
#include "engine/quant/cpu_features.h"
#include "engine/quant/vec_dot.h"

namespace {

using gqa::DType;

struct Shape {
  int64_t rows;  // output features
  int64_t k;     // input features
};
// SmolLM2-135M: the MLP's gate/up projection (1536 x 576, fits in L2 as Q4_1),
// its down projection (576 x 1536: longer rows) and the tied embedding as
// lm_head (49152 x 576, beyond L2).
constexpr Shape kShapes[] = {{1536, 576}, {576, 1536}, {49152, 576}};

constexpr DType kDTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                             DType::kQ4_1, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Byte offsets of the fp16 scales in one block of each quantized type
// (block_formats.h): set to finite values in [1e-3, 1e-1] so that no kernel
// meets inf/NaN; every other byte (quants, packed 6-bit scales) is random.
std::vector<size_t> HalfScaleOffsets(DType t) {
  switch (t) {
    case DType::kQ8_0:
    case DType::kQ4_0:
      return {0};
    case DType::kQ4_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
      return {0, 2};
    case DType::kQ6_K:
      return {208};
    default:
      return {};
  }
}

// A random weight matrix [rows, k] of type t, made once per (t, shape).
const std::vector<uint8_t>& Weights(DType t, const Shape& s) {
  static std::map<std::pair<DType, const Shape*>, std::unique_ptr<std::vector<uint8_t>>> cache;
  std::unique_ptr<std::vector<uint8_t>>& w = cache[{t, &s}];
  if (w) return *w;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  const size_t row_bytes = gqa::DTypeBytes(t, s.k);
  w = std::make_unique<std::vector<uint8_t>>(row_bytes * s.rows);
  if (!gqa::IsQuantized(t)) {
    std::vector<float> f(static_cast<size_t>(s.rows * s.k));
    for (float& v : f) v = unit(rng);
    if (t == DType::kF32) {
      std::memcpy(w->data(), f.data(), w->size());
    } else {
      gqa::ConvertFromF32(f.data(), t, w->data(), f.size());
    }
    return *w;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : *w) b = static_cast<uint8_t>(byte(rng));
  const size_t block_bytes = gqa::DTypeBlockBytes(t);
  for (size_t off = 0; off < w->size(); off += block_bytes) {
    for (size_t h : HalfScaleOffsets(t)) {
      const uint16_t v = gqa::F32ToF16(0.001f + 0.099f * (unit(rng) + 1.0f) / 2.0f);
      std::memcpy(w->data() + off + h, &v, 2);
    }
  }
  return *w;
}

double Max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

void BM_VecDot(benchmark::State& state, const gqa::quant::VecDotKernel* kernel, const Shape& s) {
  const std::vector<uint8_t>& w = Weights(kernel->weight, s);
  const size_t row_bytes = gqa::DTypeBytes(kernel->weight, s.k);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(s.k), y(s.rows);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> xq(kernel->activation_row_bytes(s.k));
  const double best_s = gqa::bench::TimeEachCall(state, [&] {
    kernel->quantize_activation(x.data(), xq.data(), s.k);
    for (int64_t r = 0; r < s.rows; ++r) {
      y[r] = kernel->vec_dot(w.data() + r * row_bytes, xq.data(), s.k);
    }
    benchmark::DoNotOptimize(y.data());
  });
  state.counters["best_us"] = best_s * 1e6;
  state.counters["GBps"] = static_cast<double>(w.size()) / best_s / 1e9;
}

// The product of m activation rows with the whole matrix, as GemmQuantDot
// does it on one thread: `entries` = through vec_dot_rows (m > 1) or
// vec_dot_wrows (m = 1), else vec_dot per (weight row, x row). Weight GB/s.
void BM_VecDotRows(benchmark::State& state, const gqa::quant::VecDotKernel* kernel, const Shape& s,
                   int64_t m, bool entries) {
  const std::vector<uint8_t>& w = Weights(kernel->weight, s);
  const size_t row_bytes = gqa::DTypeBytes(kernel->weight, s.k);
  const size_t xq_bytes = kernel->activation_row_bytes(s.k);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(s.k * m), y(s.rows * m);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> xq(xq_bytes * m);
  constexpr int64_t kTile = 8;  // weight rows per step, as GemmQuantDot
  const double best_s = gqa::bench::TimeEachCall(state, [&] {
    for (int64_t i = 0; i < m; ++i)
      kernel->quantize_activation(x.data() + i * s.k, xq.data() + i * xq_bytes, s.k);
    for (int64_t j0 = 0; j0 < s.rows; j0 += kTile) {
      const int64_t j1 = std::min(s.rows, j0 + kTile);
      if (entries && m == 1) {
        kernel->vec_dot_wrows(w.data() + j0 * row_bytes, row_bytes, j1 - j0, xq.data(), s.k,
                              y.data() + j0);
        continue;
      }
      for (int64_t j = j0; j < j1; ++j) {
        if (entries) {
          kernel->vec_dot_rows(w.data() + j * row_bytes, xq.data(), xq_bytes, m, s.k, y.data() + j,
                               s.rows);
          continue;
        }
        for (int64_t i = 0; i < m; ++i) {
          y[i * s.rows + j] =
              kernel->vec_dot(w.data() + j * row_bytes, xq.data() + i * xq_bytes, s.k);
        }
      }
    }
    benchmark::DoNotOptimize(y.data());
  });
  state.counters["best_us"] = best_s * 1e6;
  state.counters["GBps"] = static_cast<double>(w.size()) / best_s / 1e9;
}

// quantize_activation alone on one row of k (once per matrix-vector product).
void BM_Quantize(benchmark::State& state, const gqa::quant::VecDotKernel* kernel, int64_t k) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(k);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> xq(kernel->activation_row_bytes(k));
  const double best_s = gqa::bench::TimeEachCall(state, [&] {
    kernel->quantize_activation(x.data(), xq.data(), k);
    benchmark::DoNotOptimize(xq.data());
  });
  state.counters["best_us"] = best_s * 1e6;
}

// One thread's read bandwidth over `bytes` (best of 5 passes).
void BM_MemoryRead(benchmark::State& state, size_t bytes) {
  omp_set_num_threads(1);
  double gbps = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gbps = gqa::bench::MeasureReadBandwidth(bytes, 5) / 1e9;
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["GBps"] = gbps;
}

std::string CpuFeatureList() {
  const gqa::quant::CpuFeatures& f = gqa::quant::HostCpuFeatures();
  std::string out;
  for (const auto& [on, name] : {std::pair{f.avx2, "avx2"},
                                 {f.avx512, "avx512"},
                                 {f.avx512_vnni, "avx512vnni"},
                                 {f.avx512_bf16, "avx512bf16"},
                                 {f.avx_vnni, "avxvnni"}}) {
    if (on) out += std::string(out.empty() ? "" : ",") + name;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

int main(int argc, char** argv) {
  gqa::bench::InitializeWithDefaults(argc, argv);
  benchmark::AddCustomContext("cpu_features", CpuFeatureList());
  benchmark::AddCustomContext("threads", "1");

  for (const Shape& s : kShapes) {
    for (DType t : kDTypes) {
      // A row must be whole blocks: the K-quants (256) skip k = 576.
      if (s.k % gqa::DTypeBlockElems(t) != 0) continue;
      for (const gqa::quant::VecDotKernel* kernel : gqa::quant::VecDotKernelsFor(t)) {
        const std::string name = "vec_dot/" + std::string(kernel->name) + "/" +
                                 std::to_string(s.rows) + "x" + std::to_string(s.k);
        benchmark::RegisterBenchmark(name.c_str(), BM_VecDot, kernel, s)
            ->UseManualTime()
            ->ComputeStatistics("min", gqa::bench::MinOf)
            ->ComputeStatistics("max", Max)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  // Several rows per call (vec_dot.h's optional entries) against the loop of
  // vec_dot they replace: m = 1 (vec_dot_wrows) and m = 16 (vec_dot_rows).
  for (const Shape& s : kShapes) {
    for (DType t : kDTypes) {
      if (s.k % gqa::DTypeBlockElems(t) != 0) continue;
      for (const gqa::quant::VecDotKernel* kernel : gqa::quant::VecDotKernelsFor(t)) {
        for (int64_t m : {1, 16}) {
          if (m == 1 ? kernel->vec_dot_wrows == nullptr : kernel->vec_dot_rows == nullptr) continue;
          for (bool entries : {false, true}) {
            const std::string name = "rows/" + std::string(kernel->name) + "/" +
                                     std::to_string(s.rows) + "x" + std::to_string(s.k) + "/m" +
                                     std::to_string(m) + (entries ? "/entry" : "/loop");
            benchmark::RegisterBenchmark(name.c_str(), BM_VecDotRows, kernel, s, m, entries)
                ->UseManualTime()
                ->ComputeStatistics("min", gqa::bench::MinOf)
                ->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
  for (DType t : kDTypes) {
    // One row of 576 (1536 for the K-quants, whose rows are whole 256-blocks).
    const int64_t k = 576 % gqa::DTypeBlockElems(t) == 0 ? 576 : 1536;
    for (const gqa::quant::VecDotKernel* kernel : gqa::quant::VecDotKernelsFor(t)) {
      const std::string name = "quantize/" + std::string(kernel->name) + "/" + std::to_string(k);
      benchmark::RegisterBenchmark(name.c_str(), BM_Quantize, kernel, k)
          ->UseManualTime()
          ->ComputeStatistics("min", gqa::bench::MinOf)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (size_t mib : {1, 32, 1024}) {
    const std::string name = "memory_read/" + std::to_string(mib) + "MiB";
    benchmark::RegisterBenchmark(name.c_str(), BM_MemoryRead, mib << 20)
        ->UseManualTime()
        ->Iterations(1)
        ->ComputeStatistics("max", Max)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
