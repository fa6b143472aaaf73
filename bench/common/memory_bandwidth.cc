#include "bench/common/memory_bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace gqa::bench {

double MeasureReadBandwidth(size_t bytes, int repeats) {
  const size_t n = bytes / sizeof(float);
  std::vector<float> data(n);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<float>(i & 1023);  // first touch per thread
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    float total = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; ++i) total += data[i];
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    best = std::max(best, static_cast<double>(bytes) / s);
  }
  return best;
}

}  // namespace gqa::bench
