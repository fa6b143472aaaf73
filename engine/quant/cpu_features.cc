#include "engine/quant/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

namespace gqa::quant {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// Bit `bit` of register `reg` (0 eax, 1 ebx, 2 ecx, 3 edx) of CPUID leaf/subleaf,
// for the features __builtin_cpu_supports does not name in every compiler we
// build with (clang 14, the fuzz preset's, knows neither "f16c" nor "avxvnni").
// Only asked together with AVX2, whose check covers the OS's AVX state.
bool CpuidBit(unsigned leaf, unsigned subleaf, int reg, int bit) {
  unsigned r[4] = {0, 0, 0, 0};
  if (!__get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3])) return false;
  return (r[reg] >> bit) & 1u;
}
#endif

CpuFeatures Detect() {
  CpuFeatures f;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool f16c = CpuidBit(1, 0, 2, 29);     // CPUID.1:ECX.F16C
  const bool avx_vnni = CpuidBit(7, 1, 0, 4);  // CPUID.(7,1):EAX.AVX-VNNI
  f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  f.avx512_vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
  f.avx512_bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
  f.avx_vnni = f.avx2 && avx_vnni;
#endif
  return f;
}

}  // namespace

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

}  // namespace gqa::quant
