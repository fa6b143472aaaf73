#include "engine/runner/backend_flags.h"

namespace gqa {

void AddBackendFlags(FlagParser& p, BackendSetupOptions* o) {
  p.AddString("backend", &o->backend,
              "auto (default: cuda when built with it and a GPU is visible), cpu, cuda");
  p.AddString("dtype", &o->dtype,
              "CUDA: compute dtype, auto (default: bf16), f32, f16, bf16. CPU (computes in f32): "
              "how weight matrices are stored, auto (default: a GGUF's quantized types and "
              "bf16/f16 stay as the file has them where a kernel computes from them, else f32), "
              "f32 (everything dequantized: the reference), bf16. Also dummy weights' dtype "
              "(auto: f32 on the CPU, bf16 on CUDA)");
  p.AddString("kv-cache-dtype", &o->kv_cache_dtype,
              "dtype of the KV cache: auto (default: f32 on the CPU, the compute dtype on CUDA), "
              "f32, bf16 (CPU: half the memory per cached token, so twice the tokens in "
              "--kv-cache-memory and half the bytes read per decode step)");
  p.AddInt("device", &o->device, "CUDA device ordinal (default 0)");
  p.AddInt("threads", &o->threads, "CPU threads (default: every core)");
}

absl::Status ValidateBackendFlags(const BackendSetupOptions& o) {
  if (o.threads < 0) return absl::InvalidArgumentError("--threads must be >= 0");
  if (o.device < 0) return absl::InvalidArgumentError("--device must be >= 0");
  return absl::OkStatus();
}

}  // namespace gqa
