// Times the two GEMM kernels of the CPU backend (cpu::GemmMatVec and
// cpu::GemmBlas) on decode- to prefill-sized shapes, to choose
// cpu::MatVecMaxRows(); also OpenBLAS's own threading (one sgemm call with
// openblas_set_num_threads(T)), the alternative GemmBlas's OpenMP split replaced.
//
//   gemm_dispatch_bench [--rounds=R] [--threads=T]
//
// Each (shape, m, kernel) is timed call by call, in R interleaved rounds of at
// least 15 calls and 50 ms each, and the minimum is printed: on a shared, noisy machine
// the minimum is the most repeatable statistic. Prints a markdown table.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/cpu_gemm.h"

namespace {

struct Shape {
  const char* what;
  int n;  // rows of w (output features)
  int k;  // columns of w (input features)
};

// stories15M (dim 288, hidden 768, vocab 32000) layers and a 768 -> 2048 layer.
constexpr Shape kShapes[] = {
    {"wo 288x288", 288, 288},   {"qkv 864x288", 864, 288},         {"gate_up 1536x288", 1536, 288},
    {"down 288x768", 288, 768}, {"lm_head 32000x288", 32000, 288}, {"2048x768", 2048, 768},
};
constexpr int kRows[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128};

using Clock = std::chrono::steady_clock;

template <typename F>
double MinMicros(F&& f, double min_total_us) {
  f();  // warm caches and thread pools
  double best = std::numeric_limits<double>::infinity(), total = 0;
  for (int rep = 0; rep < 1000 && (total < min_total_us || rep < 15); ++rep) {
    const auto t0 = Clock::now();
    f();
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    best = std::min(best, us);
    total += us;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3, threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rounds=", 9) == 0)
      rounds = std::atoi(argv[i] + 9);
    else if (std::strncmp(argv[i], "--threads=", 10) == 0)
      threads = std::atoi(argv[i] + 10);
    else {
      std::fprintf(stderr, "usage: %s [--rounds=R] [--threads=T]\n", argv[0]);
      return 2;
    }
  }
  gqa::CpuBackend backend(threads);  // sets the OpenMP and OpenBLAS thread counts
  const int num_threads = backend.num_threads();

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  constexpr int kMaxRows = 128;
  struct Result {
    double matvec = 1e300, blas = 1e300, blas_threads = 1e300;
  };
  std::vector<std::vector<Result>> results(std::size(kShapes),
                                           std::vector<Result>(std::size(kRows)));

  for (int round = 0; round < rounds; ++round) {
    for (size_t si = 0; si < std::size(kShapes); ++si) {
      const Shape& s = kShapes[si];
      std::vector<float> w(static_cast<size_t>(s.n) * s.k), x(kMaxRows * s.k), y(kMaxRows * s.n);
      for (float& v : w) v = dist(rng);
      for (float& v : x) v = dist(rng);
      const gqa::Tensor wt = gqa::Tensor::Make(w.data(), gqa::DType::kF32, {s.n, s.k});
      for (size_t mi = 0; mi < std::size(kRows); ++mi) {
        const int m = kRows[mi];
        const gqa::Tensor xt = gqa::Tensor::Make(x.data(), gqa::DType::kF32, {m, s.k});
        const gqa::Tensor yt = gqa::Tensor::Make(y.data(), gqa::DType::kF32, {m, s.n});
        Result& r = results[si][mi];
        r.matvec = std::min(
            r.matvec,
            MinMicros([&] { gqa::cpu::GemmMatVec(xt, wt, gqa::Tensor{}, yt, num_threads); },
                      50000));
        r.blas = std::min(
            r.blas,
            MinMicros([&] { gqa::cpu::GemmBlas(xt, wt, gqa::Tensor{}, yt, num_threads); }, 50000));
        openblas_set_num_threads(num_threads);  // one slice, OpenBLAS threads
        r.blas_threads =
            std::min(r.blas_threads,
                     MinMicros([&] { gqa::cpu::GemmBlas(xt, wt, gqa::Tensor{}, yt, 1); }, 50000));
        openblas_set_num_threads(1);
      }
    }
  }

  std::printf("threads: %d, rounds: %d, MatVecMaxRows(): %d, OpenBLAS core: %s\n\n", num_threads,
              rounds, gqa::cpu::MatVecMaxRows(), openblas_get_corename());
  std::printf(
      "| w [n, k] | m | matvec us | sgemm us | sgemm / matvec | sgemm, OpenBLAS threads us |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (size_t si = 0; si < std::size(kShapes); ++si) {
    for (size_t mi = 0; mi < std::size(kRows); ++mi) {
      const Result& r = results[si][mi];
      std::printf("| %s | %d | %.1f | %.1f | %.2f%s | %.1f |\n", kShapes[si].what, kRows[mi],
                  r.matvec, r.blas, r.blas / r.matvec, r.matvec <= r.blas ? " matvec" : " sgemm",
                  r.blas_threads);
    }
  }
  return 0;
}
