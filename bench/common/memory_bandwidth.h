// Measures this machine's achievable memory read bandwidth (bytes/s): every
// thread streams through its share of a buffer much larger than the caches,
// summing it, the access pattern of a memory-bound decode step. Best of `repeats`.
#pragma once

#include <cstddef>

namespace gqa::bench {

double MeasureReadBandwidth(size_t bytes = size_t{1} << 30, int repeats = 5);

}  // namespace gqa::bench
