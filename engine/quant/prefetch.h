// Software prefetch of weights ahead of the kernel that streams them (every
// SIMD kernel of engine/quant). Measured on the 49152 x 576 products (beyond
// L2): Q4_1 7-8 -> 18 GB/s, Q8_0 4-7 -> 10-14 GB/s with it; the hardware
// prefetchers alone kept one stream at 7-8 GB/s. 1 KiB ahead did as well for
// Q4_1, less for Q8_0; 4 KiB no better than 2 (bench/results/cpu_vec_dot.md).
#pragma once

#include <xmmintrin.h>

#include <cstdint>

namespace gqa::quant {

inline constexpr int kPrefetchBytes = 2048;

// Prefetches `lines` 64-byte lines from kPrefetchBytes past p. Past a row's
// end that is the next rows, as a GEMM reads them; a prefetch never faults.
// (Integer addresses: pointer arithmetic past the end of the weights would be
// undefined even though nothing is read there.)
inline void PrefetchAhead(const void* p, int lines) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p) + kPrefetchBytes;
  for (int i = 0; i < lines; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(a + 64 * i), _MM_HINT_T0);
  }
}

}  // namespace gqa::quant
