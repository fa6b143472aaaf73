#include "engine/runner/backend_setup.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"
#include "engine/kv_cache/kv_memory_plan.h"
#include "engine/model/llama_model.h"
#include "engine/quant/vec_dot.h"
#include "engine/runner/cuda_plugin_loader.h"
#include "engine/runner/kv_cache_storage.h"

namespace gqa {
namespace {

// Device bytes the model will allocate besides weights and KV cache, an
// upper estimate made before loading: LlamaModel's workspace and RoPE tables
// (LlamaModel says how much), the cuBLASLt scratch, and a fixed allowance for
// the CUDA context, the split-KV partials and allocator slack.
size_t WorkspaceEstimate(const ModelConfig& c, const EngineConfig& e, DType dt,
                         size_t gemm_workspace) {
  constexpr size_t kContextAndSlack = size_t{768} << 20;
  return LlamaModel::WorkspaceBytes(c, e.max_num_batched_tokens, e.max_logit_rows, dt) +
         LlamaModel::RopeTableBytes(c) + gemm_workspace + kContextAndSlack;
}

// --kv-cache-dtype on the CPU: f32 (auto) or bf16.
absl::StatusOr<DType> CpuKvCacheDType(const std::string& name) {
  if (name == "auto") return DType::kF32;
  absl::StatusOr<DType> dt = ParseDType(name);
  if (!dt.ok() || (*dt != DType::kF32 && *dt != DType::kBF16)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--kv-cache-dtype: the CPU backend caches K/V as auto (f32), f32 or bf16, not '", name,
        "'"));
  }
  return *dt;
}

absl::StatusOr<std::unique_ptr<Backend>> MakeCuda(const CudaPlugin& cuda,
                                                  const BackendSetupOptions& o,
                                                  const ModelConfig& model, EngineConfig* engine,
                                                  std::ostream& log) {
  GQA_ASSIGN_OR_RETURN(const DType dt, ParseDType(o.dtype));
  if (dt != DType::kBF16 && dt != DType::kF16 && dt != DType::kF32) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dtype: the CUDA backend computes in bf16, f16 or f32, not ", o.dtype));
  }
  if (o.kv_cache_dtype != "auto") {
    absl::StatusOr<DType> kv = ParseDType(o.kv_cache_dtype);
    if (!kv.ok() || *kv != dt) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kv-cache-dtype: the CUDA backend caches K/V in its compute dtype (",
                       std::string(DTypeName(dt)), "), not '", o.kv_cache_dtype, "'"));
    }
  }
  GQA_ASSIGN_OR_RETURN(const CudaDeviceInfo info, cuda.DeviceInfo(o.device));
  CudaBackendOptions co;
  co.device = o.device;
  co.activation_dtype = dt;
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, cuda.MakeBackend(co));
  log << absl::StrFormat("backend: cuda, device %d (%s, sm_%d, %d SMs, %.1f GiB), %s\n", o.device,
                         info.name, info.compute_capability, info.num_sms,
                         info.total_bytes / double(1 << 30), DTypeName(dt));
  // One logits GEMM per decode step: in chunks, each chunk would read the
  // whole classifier weight again (1 GB in bf16 for a 128k x 4096 head).
  // Greedy rows never copy their logits to the host, so the wider buffer
  // costs device memory (planned below) rather than transfers.
  if (engine->max_logit_rows < engine->max_num_seqs) {
    engine->max_logit_rows = engine->max_num_seqs;
    log << absl::StrFormat("cuda: logits computed for up to %d rows at once (--max-num-seqs)\n",
                           engine->max_logit_rows);
  }
  if (engine->kv_cache_bytes != 0 || engine->num_kv_blocks != 0) return backend;

  // Planned before loading (memory_plan.h): weights and workspace estimated.
  KvMemoryPlanInputs in;
  in.total_bytes = info.total_bytes;
  in.free_bytes = info.free_bytes;
  in.gpu_memory_utilization = o.gpu_memory_utilization;
  // The real bytes: the CUDA backend keeps every matrix in `dt`
  // (Backend::MatrixWeightDType's default), so nothing stays quantized there.
  in.weight_bytes = model.NumParameters() * DTypeSize(dt);
  in.workspace_bytes = WorkspaceEstimate(model, *engine, dt, co.gemm_workspace_bytes);
  in.kv_bytes_per_block = KvCacheStorage::BytesPerBlock(model, engine->block_size, dt);
  in.block_size = engine->block_size;
  GQA_ASSIGN_OR_RETURN(const KvMemoryPlan plan, PlanKvCache(in));
  engine->kv_cache_bytes = plan.kv_bytes;
  log << DescribeKvMemoryPlan(in, plan) << "\n";
  return backend;
}

// --dtype on the CPU: how weight matrices are stored (Backend::MatrixWeightDType).
absl::StatusOr<CpuWeights> CpuWeightsFor(const std::string& dtype) {
  if (dtype == "auto") return CpuWeights::kAuto;
  if (dtype == "f32" || dtype == "float32" || dtype == "fp32") return CpuWeights::kF32;
  if (dtype == "bf16" || dtype == "bfloat16") {
    if (quant::BestVecDotKernel(DType::kBF16) == nullptr) {
      return absl::FailedPreconditionError(
          "--dtype bf16: this build of the CPU backend has no bf16 kernel yet; use --dtype auto "
          "or f32");
    }
    return CpuWeights::kBF16;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--dtype: the CPU backend stores weights as auto, f32 or bf16, not '", dtype, "'"));
}

const char* CpuWeightsDescription(CpuWeights w) {
  switch (w) {
    case CpuWeights::kF32:
      return "f32, every other dtype dequantized";
    case CpuWeights::kBF16:
      return "bf16 (f16 kept where a kernel computes from it)";
    case CpuWeights::kAuto:
      break;
  }
  return "the checkpoint's dtype where a kernel computes from it, else f32";
}

}  // namespace

bool BuiltWithCuda() {
#ifdef GQA_CUDA_PLUGIN_BUILD_PATH
  return true;
#else
  return false;
#endif
}

absl::StatusOr<std::string> ResolveBackend(const std::string& backend) {
  if (backend != "auto" && backend != "cpu" && backend != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("--backend: '", backend, "' is not one of auto, cpu, cuda"));
  }
  if (backend == "cpu") return std::string("cpu");
  absl::StatusOr<const CudaPlugin*> cuda = CudaPlugin::Load();
  if (!cuda.ok()) {
    if (backend == "auto") return std::string("cpu");
    return absl::FailedPreconditionError(absl::StrCat("--backend cuda: ", cuda.status().message()));
  }
  const bool gpu = (*cuda)->DeviceCount() > 0;
  if (backend == "cuda" && !gpu) {
    return absl::FailedPreconditionError("--backend cuda: no CUDA device is visible");
  }
  return std::string(gpu ? "cuda" : "cpu");
}

std::string ResolveDType(const std::string& dtype, const std::string& resolved_backend) {
  if (dtype != "auto") return dtype;
  return resolved_backend == "cuda" ? "bf16" : "f32";
}

absl::StatusOr<std::unique_ptr<Backend>> SetUpBackend(const BackendSetupOptions& o,
                                                      const ModelConfig& model,
                                                      EngineConfig* engine, std::ostream& log) {
  // Callers resolve "auto" once, before loading (dummy weights take the
  // backend's dtype); a resolved name is trusted, not probed again.
  std::string name = o.backend;
  if (name != "cpu" && name != "cuda") {
    GQA_ASSIGN_OR_RETURN(name, ResolveBackend(o.backend));
  }
  if (name == "cuda") {
    GQA_ASSIGN_OR_RETURN(const CudaPlugin* cuda, CudaPlugin::Load());
    BackendSetupOptions resolved = o;
    resolved.dtype = ResolveDType(o.dtype, name);
    return MakeCuda(*cuda, resolved, model, engine, log);
  }
  GQA_ASSIGN_OR_RETURN(const CpuWeights weights, CpuWeightsFor(o.dtype));
  GQA_ASSIGN_OR_RETURN(const DType kv_dtype, CpuKvCacheDType(o.kv_cache_dtype));
  std::unique_ptr<Backend> backend = MakeCpuBackend(o.threads, weights, kv_dtype);
  log << "backend: cpu (computes in f32; weight matrices: " << CpuWeightsDescription(weights)
      << "; KV cache: " << DTypeName(kv_dtype) << ")\n";
  if (o.backend == "auto" && BuiltWithCuda()) {
    // A GPU host whose plugin fails to load must not fall back in silence.
    absl::StatusOr<const CudaPlugin*> cuda = CudaPlugin::Load();
    log << "backend: auto chose the CPU: "
        << (cuda.ok() ? std::string("no CUDA device is visible")
                      : std::string(cuda.status().message()))
        << "\n";
  }
  return backend;
}

}  // namespace gqa
