#include "engine/sampling/vocab_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gqa {
namespace {

// Lanes of the blocked loops: 16 floats = two AVX2 registers, or one AVX-512 one. Each
// block is computed lane-wise (which the compiler vectorizes) and added into kLanes
// accumulators; the final reduction order is fixed, so results never depend on the width.
constexpr size_t kLanes = kBlockLanes;

// Before a 16-lane inner loop: without it GCC fully unrolls the loop first and then fails
// to vectorize the unrolled selects (measured: 5-10x slower, branchy scalar code).
#define GQA_LANE_LOOP _Pragma("GCC unroll 1")

template <typename T>
T ReduceLanes(const T (&acc)[kLanes]) {
  T sum = 0;
  for (T a : acc) sum += a;
  return sum;
}

// Sum over i of f(i), f returning float, accumulated in double lane by lane.
template <typename F>
double LaneSum(size_t n, F f) {
  double acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    float block[kLanes];
    GQA_LANE_LOOP for (size_t j = 0; j < kLanes; ++j) block[j] = f(i + j);
    GQA_LANE_LOOP for (size_t j = 0; j < kLanes; ++j) acc[j] += block[j];
  }
  for (size_t j = 0; i < n; ++i, ++j) acc[j] += f(i);
  return ReduceLanes(acc);
}

}  // namespace

float MaxIgnoringNaN(std::span<const float> values, bool* has_nan) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float lane_max[kLanes];
  uint32_t lane_nan[kLanes];
  for (size_t j = 0; j < kLanes; ++j) {
    lane_max[j] = kNegInf;
    lane_nan[j] = 0;
  }
  // m < v ? v : m skips a NaN v (it compares false). (Not std::max: its reference
  // arguments keep GCC from vectorizing.)
  const float* x = values.data();
  const size_t n = values.size();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    GQA_LANE_LOOP for (size_t j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      const float m = lane_max[j];
      lane_max[j] = m < v ? v : m;
      lane_nan[j] |= v != v;
    }
  }
  float result = kNegInf;
  uint32_t any_nan = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    result = std::max(result, lane_max[j]);
    any_nan |= lane_nan[j];
  }
  for (; i < n; ++i) {
    result = std::max(result, x[i]);
    any_nan |= x[i] != x[i];
  }
  *has_nan = any_nan != 0;
  return result;
}

double SumExpShifted(std::span<const float> x, float max, float scale) {
  return LaneSum(x.size(), [&](size_t i) { return ExpNonPositive((x[i] - max) * scale); });
}

double ExpShifted(std::span<const float> x, float max, float scale, std::span<float> out) {
  float* dst = out.data();
  return LaneSum(x.size(), [&](size_t i) {
    const float e = ExpNonPositive((x[i] - max) * scale);
    dst[i] = e;
    return e;
  });
}

double SumInDouble(std::span<const float> values) {
  return LaneSum(values.size(), [&](size_t i) { return values[i]; });
}

double SumAtLeast(std::span<const float> values, float threshold) {
  return LaneSum(values.size(),
                 [&](size_t i) { return values[i] >= threshold ? values[i] : 0.0f; });
}

size_t CountAtLeast(std::span<const float> values, float threshold) {
  uint32_t acc[kLanes] = {};
  const float* x = values.data();
  const size_t n = values.size();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    GQA_LANE_LOOP for (size_t j = 0; j < kLanes; ++j) acc[j] += x[i + j] >= threshold;
  }
  size_t count = 0;
  for (; i < n; ++i) count += x[i] >= threshold;
  for (uint32_t a : acc) count += a;
  return count;
}

size_t CollectAtLeast(std::span<const float> values, float threshold, int* ids) {
  const float* x = values.data();
  const size_t n = values.size();
  size_t count = 0;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    uint32_t any = 0;
    GQA_LANE_LOOP for (size_t j = 0; j < kLanes; ++j) any |= x[i + j] >= threshold;
    if (any == 0) continue;
    for (size_t j = i; j < i + kLanes; ++j) {  // write always, advance on a match
      ids[count] = static_cast<int>(j);
      count += x[j] >= threshold;
    }
  }
  for (; i < n; ++i) {
    ids[count] = static_cast<int>(i);
    count += x[i] >= threshold;
  }
  return count;
}

int FirstIndexOf(std::span<const float> values, float target) {
  const float* x = values.data();
  const size_t n = values.size();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    uint32_t any = 0;
    GQA_LANE_LOOP for (size_t j = 0; j < kLanes; ++j) any |= x[i + j] == target;
    if (any != 0) break;
  }
  for (; i < n; ++i) {
    if (x[i] == target) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace gqa
