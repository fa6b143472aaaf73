#include "engine/common/dtype.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace gqa {

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kQ8_0: return "q8_0";
    case DType::kQ4_0: return "q4_0";
    case DType::kQ4_1: return "q4_1";
    case DType::kQ4_K: return "q4_K";
    case DType::kQ5_K: return "q5_K";
    case DType::kQ6_K: return "q6_K";
    case DType::kQ4_0x16: return "q4_0x16";
    case DType::kQ4_1x16: return "q4_1x16";
    case DType::kQ8_0x16: return "q8_0x16";
  }
  return "?";
}

int64_t DTypeBlockElems(DType t) {
  switch (t) {
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ4_0x16:
    case DType::kQ4_1x16:
    case DType::kQ8_0x16: return 32;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return 256;
    default: return 1;
  }
}

size_t DTypeBlockBytes(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kQ8_0: return 34;   // f16 d, int8 qs[32]
    case DType::kQ4_0: return 18;   // f16 d, 16 bytes of nibbles
    case DType::kQ4_1: return 20;   // f16 d, f16 m, 16 bytes of nibbles
    case DType::kQ4_K: return 144;  // f16 d, f16 dmin, 12 bytes of scales, 128 of nibbles
    case DType::kQ5_K: return 176;  // as q4_K plus 32 bytes of high bits
    case DType::kQ6_K: return 210;  // 128 low nibbles, 64 high bits, 16 scales, f16 d
    case DType::kQ4_0x16: return 18;  // per row and block: as q4_0
    case DType::kQ4_1x16: return 20;  // as q4_1
    case DType::kQ8_0x16: return 34;  // as q8_0
  }
  return 0;
}

absl::StatusOr<DType> ParseDType(std::string_view name) {
  if (name == "f32" || name == "float32" || name == "fp32" || name == "F32") return DType::kF32;
  if (name == "f16" || name == "float16" || name == "fp16" || name == "F16" || name == "half") {
    return DType::kF16;
  }
  if (name == "bf16" || name == "bfloat16" || name == "BF16") return DType::kBF16;
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", std::string(name), "'"));
}

float F16ToF32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: value = mant * 2^-24
      float f = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&u, &f, 4);
      u |= sign;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (mant << 13);
  } else {
    u = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t F32ToF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00;  // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {                        // below the smallest normal: subnormal
    const float a = std::fabs(f);
    const float scaled = a * 16777216.0f;  // 2^24; rint rounds to nearest even
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  uint32_t mant = abs & 0x7fffffu;
  uint32_t exp = (abs >> 23) - 112;
  uint32_t h = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return sign | static_cast<uint16_t>(h);
}

void ConvertToF32(DType src_type, const void* src, float* dst, size_t n) {
  switch (src_type) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = F16ToF32(s[i]);
      return;
    }
    case DType::kBF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = Bf16ToF32(s[i]);
      return;
    }
    default:  // quantized: engine/quant dequantizes (a caller's bug; see the header)
      assert(false && "ConvertToF32 of a quantized dtype");
      std::fill(dst, dst + n, std::nanf(""));
      return;
  }
}

void ConvertFromF32(const float* src, DType dst_type, void* dst, size_t n) {
  switch (dst_type) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = F32ToF16(src[i]);
      return;
    }
    case DType::kBF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = F32ToBf16(src[i]);
      return;
    }
    default:  // quantized: never an output of a conversion (a caller's bug)
      assert(false && "ConvertFromF32 to a quantized dtype");
      return;
  }
}

}  // namespace gqa
