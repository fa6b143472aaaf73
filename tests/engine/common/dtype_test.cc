// The scalar bf16 conversions every other bf16 path is checked against
// (weight loading, the bf16 KV cache): F32ToBf16 rounds to nearest with ties
// to even, overflows to infinity and keeps NaN a NaN; Bf16ToF32 is exact.
// Expected bit patterns worked out by hand from the IEEE-754 layouts.
#include "engine/common/dtype.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"

namespace gqa {
namespace {

float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint32_t ToBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

TEST(Bf16Test, RoundsToNearestWithTiesToEven) {
  EXPECT_EQ(F32ToBf16(FromBits(0x3F800000)), 0x3F80);  // 1.0: exact
  EXPECT_EQ(F32ToBf16(FromBits(0x3F807FFF)), 0x3F80);  // below half an ulp: down
  EXPECT_EQ(F32ToBf16(FromBits(0x3F808001)), 0x3F81);  // above half: up
  EXPECT_EQ(F32ToBf16(FromBits(0x3F808000)), 0x3F80);  // tie, 0x3F80 even: down
  EXPECT_EQ(F32ToBf16(FromBits(0x3F818000)), 0x3F82);  // tie, 0x3F81 odd: up to even
  EXPECT_EQ(F32ToBf16(FromBits(0xBF818000)), 0xBF82);  // the same below zero
  EXPECT_EQ(F32ToBf16(FromBits(0x3FFFFFFF)), 0x4000);  // the carry reaches the exponent
}

TEST(Bf16Test, ZerosInfinitiesAndNaN) {
  EXPECT_EQ(F32ToBf16(0.0f), 0x0000);
  EXPECT_EQ(F32ToBf16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToBf16(FromBits(0x7F800000)), 0x7F80);  // +inf
  EXPECT_EQ(F32ToBf16(FromBits(0xFF800000)), 0xFF80);  // -inf
  EXPECT_EQ(F32ToBf16(FromBits(0x7F7FFFFF)), 0x7F80);  // the largest float rounds to inf
  EXPECT_EQ(F32ToBf16(FromBits(0x7FC00000)), 0x7FC0);  // quiet NaN
  // A NaN whose payload sits only in the dropped bits must not become inf.
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(FromBits(0x7F800001)))));
}

TEST(Bf16Test, WideningIsExact) {
  EXPECT_EQ(ToBits(Bf16ToF32(0x3F81)), 0x3F810000u);
  EXPECT_EQ(ToBits(Bf16ToF32(0x8000)), 0x80000000u);
  EXPECT_EQ(ToBits(Bf16ToF32(0x0001)), 0x00010000u);  // a subnormal
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = Bf16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(F32ToBf16(f), h) << h;  // every non-NaN value round-trips
  }
}

}  // namespace
}  // namespace gqa
