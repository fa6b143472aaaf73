// Rng: the per-sequence random stream of the sampler. xoshiro256** (Blackman & Vigna),
// its 256-bit state filled from one uint64 seed by splitmix64, as its authors recommend.
//
// Why not <random>: std::uniform_real_distribution and friends differ between standard
// libraries, and a fixed seed must give the same tokens on every build. Everything here is
// integer arithmetic with fixed conversions, so a seed means the same stream everywhere.
//
// Thread ownership: none; one Rng per sequence, used by whichever thread owns the sequence.
#pragma once

#include <cstdint>

namespace gqa {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& word : state_) word = SplitMix64(&x);
  }

  // 64 uniformly random bits.
  uint64_t Next() {
    const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = RotateLeft(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) on a grid of 2^-24 (every value exactly representable). One Next().
  float UniformFloat() { return static_cast<float>(Next() >> 40) * 0x1.0p-24f; }

  // Uniform in [0, 1) on a grid of 2^-53. One Next(). The sampler uses this one: with a
  // 128k vocabulary, a 2^-24 grid would be only ~100x finer than a uniform token's mass.
  double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  static uint64_t SplitMix64(uint64_t* x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];  // never all zero: splitmix64 output of four consecutive counters
};

}  // namespace gqa
