#include "engine/runner/backend_flags.h"

namespace gqa {

void AddBackendFlags(FlagParser& p, BackendSetupOptions* o) {
  p.AddString("backend", &o->backend,
              "auto (default: cuda when built with it and a GPU is visible), cpu, cuda");
  p.AddString("dtype", &o->dtype,
              "compute dtype on CUDA and dummy weights' dtype: auto (default: f32 on the CPU, "
              "bf16 on CUDA), f32, f16, bf16");
  p.AddInt("device", &o->device, "CUDA device ordinal (default 0)");
  p.AddInt("threads", &o->threads, "CPU threads (default: every core)");
}

absl::Status ValidateBackendFlags(const BackendSetupOptions& o) {
  if (o.threads < 0) return absl::InvalidArgumentError("--threads must be >= 0");
  if (o.device < 0) return absl::InvalidArgumentError("--device must be >= 0");
  return absl::OkStatus();
}

}  // namespace gqa
