// The x86 instruction-set extensions this process may use, detected once at
// run time (not from the compiler's -march), so one binary picks the best
// kernel on every machine it runs on.
#pragma once

namespace gqa::quant {

struct CpuFeatures {
  bool avx2 = false;         // with FMA and F16C
  bool avx512 = false;       // F, BW, VL, DQ
  bool avx512_vnni = false;  // VPDPBUSD on 512-bit registers
  bool avx512_bf16 = false;  // VDPBF16PS
  bool avx_vnni = false;     // VPDPBUSD on 256-bit registers (VEX)
};

// The features of the machine this process runs on; all false off x86-64.
const CpuFeatures& HostCpuFeatures();

}  // namespace gqa::quant
