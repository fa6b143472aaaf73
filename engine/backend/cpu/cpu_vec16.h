// The SIMD vocabulary of the CPU backend's vector-extension kernels (attention,
// SiluMul): a 16-float vector type (GCC/Clang vector extensions: one AVX-512
// register under -march=native, two AVX2 registers or plain code elsewhere;
// no intrinsics, no run-time dispatch), the lane-wise exp2 of the online
// softmax and the SiLU built on it.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>

namespace gqa::cpu {

inline constexpr int kLanes = 16;
// Its alias set is that of float; 64-byte aligned.
typedef float Vec16 __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t Int16 __attribute__((vector_size(kLanes * sizeof(int32_t))));

inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr float kLog2E = 1.4426950408889634f;

inline Vec16 Splat(float x) { return Vec16{} + x; }
inline Vec16 Max(Vec16 a, Vec16 b) { return a > b ? a : b; }

// 16 floats from memory of any alignment (a KV cache row).
inline Vec16 LoadUnaligned(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// 16 bf16 values (their bits) from memory of any alignment, widened to
// floats exactly: each one's bits become the float's upper half.
inline Vec16 LoadUnaligned(const uint16_t* p) {
  typedef uint16_t Bf16x16 __attribute__((vector_size(kLanes * sizeof(uint16_t))));
  Bf16x16 h;
  std::memcpy(&h, p, sizeof(h));
  return std::bit_cast<Vec16>(__builtin_convertvector(h, Int16) << 16);
}

// 2^x lane by lane for x <= 0 (the only arguments here: scores minus their
// running max, -|x| log2(e) in Silu); relative error ~1e-7. Below -126 (and
// at -inf) gives 0; NaN stays NaN. x = n + r with n = round(x), r in
// [-0.5, 0.5]: 2^r by its Taylor polynomial of degree 7, 2^n by building the
// float's exponent bits.
inline Vec16 Exp2(Vec16 x) {
  const Vec16 lo = Splat(-126.0f);
  const Vec16 xc = x < lo ? lo : x;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const Vec16 t = xc + kRound;
  const Vec16 r = xc - (t - kRound);
  Vec16 p = Splat(1.525273380405984e-05f);
  p = p * r + 1.5403530393381608e-04f;
  p = p * r + 1.3333558146428443e-03f;
  p = p * r + 9.618129107628477e-03f;
  p = p * r + 5.550410866482158e-02f;
  p = p * r + 2.402265069591007e-01f;
  p = p * r + 6.931471805599453e-01f;
  p = p * r + 1.0f;
  // t's low mantissa bits hold n + 2^22 (0x4B400000 is 1.5 * 2^23's bits).
  const Int16 exponent = ((std::bit_cast<Int16>(t) - 0x4B400000) + 127) << 23;
  const Vec16 y = p * std::bit_cast<Vec16>(exponent);
  return x < lo ? Vec16{} : y;
}

// SiLU, x / (1 + e^-x), lane by lane. Exp2 is only asked for e = e^-|x|
// (never above 1, so 1 + e cannot overflow): the sigmoid is 1 / (1 + e) for
// x >= 0 and e / (1 + e) = 1 / (1 + e^-x) below. Relative error (measured
// against double): 4e-7 for |x| <= 4, 1e-6 at 16, 4e-6 at 80, from rounding
// x log2(e) to float. Where e underflows (x < -87) the result is 0, the true
// value being above -1e-36; NaN stays NaN.
inline Vec16 Silu(Vec16 x) {
  const Vec16 e = Exp2((x < 0 ? x : -x) * kLog2E);
  const Vec16 sigmoid = (x >= 0 ? Splat(1.0f) : e) / (1.0f + e);
  return x * sigmoid;
}

}  // namespace gqa::cpu
