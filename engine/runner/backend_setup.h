// SetUpBackend: the backend the tools and the server run on, chosen by
// --backend, and, on a GPU, the KV cache budget from --gpu-memory-utilization.
//
//   auto  CUDA when this build has the CUDA backend and a GPU is visible, else CPU
//   cpu   the fp32 reference backend (OpenMP threads)
//   cuda  the GPU backend; an error when the build has none or no GPU is visible
//
// Thread ownership: call once at startup, before the engine exists.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backend/backend.h"
#include "engine/model/model_config.h"
#include "engine/runner/engine.h"

namespace gqa {

struct BackendSetupOptions {
  std::string backend = "auto";  // "auto" | "cpu" | "cuda"
  int threads = 0;               // cpu: OpenMP threads; 0 = every core
  int device = 0;                // cuda: device ordinal
  // cuda: activations and KV cache, "bf16" | "f16" | "f32" (f32: to compare
  // with the CPU backend exactly); "auto" = bf16.
  // cpu: computes in f32; this says how weight matrices are stored: "auto"
  // keeps the checkpoint's compact dtype (GGUF Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K,
  // bf16/f16) wherever a kernel computes from it, else f32; "f32" dequantizes
  // everything (the reference path); "bf16" stores them as bf16 (an error
  // while no bf16 kernel exists).
  std::string dtype = "auto";
  // The KV cache's dtype. cpu: "auto" (= f32) | "f32" | "bf16" (half the
  // memory per token: twice the tokens in --kv-cache-memory, half the bytes
  // each decode step reads); cuda: the compute dtype, so only "auto" or its
  // name.
  std::string kv_cache_dtype = "auto";
  // cuda: share of the device's memory that weights, workspace and KV cache
  // may use together, (0, 1]; the KV pool gets what is left.
  double gpu_memory_utilization = 0.9;
};

// `options.backend` is normally what ResolveBackend returned ("cpu" |
// "cuda"), resolved once before loading; "auto" is resolved here. The
// dtypes are checked (INVALID_ARGUMENT naming the flag). On CUDA, when
// `engine` has no explicit KV budget (kv_cache_bytes and num_kv_blocks both
// 0), kv_cache_bytes is set from the memory plan (RESOURCE_EXHAUSTED when not
// one block fits). Writes one line per decision to `log`.
absl::StatusOr<std::unique_ptr<Backend>> SetUpBackend(const BackendSetupOptions& options,
                                                      const ModelConfig& model,
                                                      EngineConfig* engine, std::ostream& log);

// What `backend` ("auto" | "cpu" | "cuda") means on this machine: "cpu" or
// "cuda"; FAILED_PRECONDITION for "cuda" without a CUDA build or a GPU.
// Tools resolve it before loading, to make dummy weights in the right dtype.
absl::StatusOr<std::string> ResolveBackend(const std::string& backend);

// "auto" -> "f32" on the CPU, "bf16" on CUDA; any other name unchanged. (The
// dtype of dummy weights; the CPU backend reads "auto" itself.)
std::string ResolveDType(const std::string& dtype, const std::string& resolved_backend);

// True when this build includes the CUDA backend.
bool BuiltWithCuda();

}  // namespace gqa
