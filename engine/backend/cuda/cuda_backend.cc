// CudaBackend: memory, error latching, and each op's validation and launch.
// The kernels are in the .cu files, the GEMM in cuda_gemm.cc.
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/backend/cuda/cuda_backend_impl.h"

namespace gqa::cuda {
namespace {

KernelDType ToKernel(DType t) {
  switch (t) {
    case DType::kF32:
      return KernelDType::kF32;
    case DType::kF16:
      return KernelDType::kF16;
    default:
      return KernelDType::kBF16;
  }
}

cudaDataType_t ToCuda(DType t) {
  switch (t) {
    case DType::kF32:
      return CUDA_R_32F;
    case DType::kF16:
      return CUDA_R_16F;
    default:
      return CUDA_R_16BF;
  }
}

// Elements between consecutive rows of a 2-D view (a 1-D tensor is one row).
int64_t RowStride(const Tensor& t) { return t.ndim >= 2 ? t.row_stride : t.shape[0]; }

}  // namespace

absl::StatusOr<std::unique_ptr<CudaBackend>> CudaBackend::Create(const CudaBackendOptions& o) {
  const int count = CudaDeviceCount();
  if (count == 0) return absl::UnavailableError("cuda backend: no CUDA device (or no driver)");
  if (o.device < 0 || o.device >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("cuda backend: device ", o.device, " does not exist (", count, " devices)"));
  }
  std::unique_ptr<CudaBackend> b(new CudaBackend(o));
  b->kernel_dtype_ = ToKernel(o.activation_dtype);
  GQA_CUDA_RETURN_IF_ERROR(cudaSetDevice(o.device));
  cudaDeviceProp prop{};
  GQA_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, o.device));
  if (prop.major < 8) {
    return absl::UnimplementedError(
        absl::StrCat("cuda backend: ", prop.name, " has compute capability ", prop.major, ".",
                     prop.minor, "; the kernels need 8.0 (Ampere) or newer"));
  }
  b->num_sms_ = prop.multiProcessorCount;
  b->max_smem_per_block_ = prop.sharedMemPerBlockOptin;
  GQA_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&b->stream_, cudaStreamNonBlocking));
  absl::StatusOr<std::unique_ptr<CublasLtGemm>> gemm = CublasLtGemm::Create(o.gemm_workspace_bytes);
  if (!gemm.ok()) return gemm.status();
  b->gemm_ = std::move(*gemm);
  return b;
}

CudaBackend::~CudaBackend() {
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  gemm_.reset();
  if (scratch_ != nullptr) cudaFree(scratch_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

bool CudaBackend::Ready() {
  if (errors_.failed()) return false;
  // The current device is per host thread; the engine thread may not be
  // the one that created the backend. Cached: cudaSetDevice is not free.
  thread_local int current_device = -1;
  if (current_device != options_.device) {
    if (!GQA_CUDA_LATCH(errors_, cudaSetDevice(options_.device))) return false;
    current_device = options_.device;
  }
  return true;
}

bool CudaBackend::Reject(std::string_view op, std::string_view why) {
  errors_.Record(absl::InvalidArgumentError(
      absl::StrCat("cuda backend ", std::string(op), ": ", std::string(why))));
  return false;
}

bool CudaBackend::CheckActivation(std::string_view op, const Tensor& t) {
  if (t.dtype != options_.activation_dtype) {
    return Reject(op, absl::StrCat("tensor ", t.ShapeString(), " is not in the activation dtype ",
                                   std::string(DTypeName(options_.activation_dtype))));
  }
  if (t.ndim != 2) return Reject(op, absl::StrCat("tensor ", t.ShapeString(), " is not 2-D"));
  return true;
}

float* CudaBackend::DecodeScratch(size_t bytes) {
  if (bytes <= scratch_bytes_) return static_cast<float*>(scratch_);
  if (scratch_ != nullptr) {
    cudaFree(scratch_);  // synchronizes: no kernel still reads it
    scratch_ = nullptr;
    scratch_bytes_ = 0;
  }
  if (!GQA_CUDA_LATCH(errors_, cudaMalloc(&scratch_, bytes))) return nullptr;
  scratch_bytes_ = bytes;
  return static_cast<float*>(scratch_);
}

absl::StatusOr<DeviceBuffer> CudaBackend::Allocate(size_t bytes) {
  if (!Ready()) return errors_.status();
  void* data = nullptr;
  const cudaError_t err = cudaMalloc(&data, bytes == 0 ? 1 : bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();  // an allocation failure is not sticky: clear it
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    return absl::ResourceExhaustedError(absl::StrCat(
        "cuda backend: cannot allocate ", bytes, " bytes on device ", options_.device, " (",
        free_bytes, " of ", total_bytes, " bytes free): ", cudaGetErrorString(err)));
  }
  return DeviceBuffer(data, bytes, [](void* p) { cudaFree(p); });
}

void CudaBackend::CopyToDevice(void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || !Ready()) return;
  if (!GQA_CUDA_LATCH(errors_, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_))) {
    return;
  }
  // From pinned memory the copy is truly asynchronous: wait, so the caller
  // may reuse `src` as the contract allows.
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, src) == cudaSuccess && attr.type == cudaMemoryTypeHost) {
    GQA_CUDA_LATCH(errors_, cudaStreamSynchronize(stream_));
  }
  cudaGetLastError();  // an unregistered pointer may leave an error behind
}

void CudaBackend::CopyToHost(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (Ready() &&
      GQA_CUDA_LATCH(errors_, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_)) &&
      GQA_CUDA_LATCH(errors_, cudaStreamSynchronize(stream_))) {
    return;
  }
  std::memset(dst, 0xff, bytes);  // NaN in f32, f16 and bf16: never passes for a result
}

void CudaBackend::Synchronize() {
  if (Ready()) GQA_CUDA_LATCH(errors_, cudaStreamSynchronize(stream_));
}

void CudaBackend::EmbeddingLookup(const Tensor& table, const int32_t* ids, Tensor out) {
  constexpr std::string_view kOp = "EmbeddingLookup";
  if (!Ready() || !CheckActivation(kOp, out)) return;
  if (table.ndim != 2 || table.cols() != out.cols()) {
    Reject(kOp,
           absl::StrCat("table ", table.ShapeString(), " does not match out ", out.ShapeString()));
    return;
  }
  GQA_CUDA_LATCH(errors_, LaunchEmbedding(table.data, ToKernel(table.dtype), table.rows(),
                                          RowStride(table), ids, out.data, kernel_dtype_,
                                          RowStride(out), out.rows(), out.cols(), stream_));
}

void CudaBackend::RmsNorm(const Tensor& x, const Tensor& weight, float eps, Tensor out) {
  constexpr std::string_view kOp = "RmsNorm";
  if (!Ready() || !CheckActivation(kOp, x) || !CheckActivation(kOp, out)) return;
  if (out.rows() != x.rows() || out.cols() != x.cols() || weight.numel() != x.cols() ||
      weight.dtype != options_.activation_dtype) {
    Reject(kOp, absl::StrCat("x ", x.ShapeString(), ", weight ", weight.ShapeString(), ", out ",
                             out.ShapeString()));
    return;
  }
  GQA_CUDA_LATCH(errors_,
                 LaunchRmsNorm(nullptr, 0, x.data, RowStride(x), weight.data, eps, out.data,
                               RowStride(out), x.rows(), x.cols(), kernel_dtype_, stream_));
}

void CudaBackend::AddRmsNorm(Tensor residual, const Tensor& x, const Tensor& weight, float eps,
                             Tensor out) {
  constexpr std::string_view kOp = "AddRmsNorm";
  if (!Ready() || !CheckActivation(kOp, residual) || !CheckActivation(kOp, x) ||
      !CheckActivation(kOp, out)) {
    return;
  }
  if (residual.rows() != x.rows() || residual.cols() != x.cols() || out.rows() != x.rows() ||
      out.cols() != x.cols() || weight.numel() != x.cols() ||
      weight.dtype != options_.activation_dtype) {
    Reject(kOp, absl::StrCat("residual ", residual.ShapeString(), ", x ", x.ShapeString(),
                             ", weight ", weight.ShapeString(), ", out ", out.ShapeString()));
    return;
  }
  GQA_CUDA_LATCH(errors_, LaunchRmsNorm(residual.data, RowStride(residual), x.data, RowStride(x),
                                        weight.data, eps, out.data, RowStride(out), x.rows(),
                                        x.cols(), kernel_dtype_, stream_));
}

void CudaBackend::Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y) {
  constexpr std::string_view kOp = "Gemm";
  if (!Ready()) return;
  // x and w in the activation dtype; y too, or fp32 (e.g. logits).
  const bool dtypes_ok = x.dtype == options_.activation_dtype &&
                         w.dtype == options_.activation_dtype &&
                         (y.dtype == options_.activation_dtype || y.dtype == DType::kF32) &&
                         (bias.empty() || bias.dtype == y.dtype);
  const bool shapes_ok = x.ndim == 2 && w.ndim == 2 && y.ndim == 2 && x.cols() == w.cols() &&
                         y.rows() == x.rows() && y.cols() == w.rows() &&
                         (bias.empty() || bias.numel() == w.rows());
  if (!dtypes_ok || !shapes_ok) {
    Reject(kOp, absl::StrCat("x ", x.ShapeString(), ", w ", w.ShapeString(), ", bias ",
                             bias.empty() ? std::string("none") : bias.ShapeString(), ", y ",
                             y.ShapeString()));
    return;
  }
  GemmOperands op;
  op.x = x.data;
  op.x_type = ToCuda(x.dtype);
  op.w = w.data;
  op.w_type = ToCuda(w.dtype);
  op.bias = bias.empty() ? nullptr : bias.data;
  op.y = y.data;
  op.y_type = ToCuda(y.dtype);
  op.m = x.rows();
  op.n = w.rows();
  op.k = x.cols();
  op.ldx = RowStride(x);
  op.ldw = RowStride(w);
  op.ldy = RowStride(y);
  GQA_CUDA_LATCH(errors_, gemm_->Run(op, stream_));
}

void CudaBackend::RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                                    const AttentionMetadata& meta, KvCacheLayer kv) {
  constexpr std::string_view kOp = "RopeAndCacheWrite";
  if (!Ready() || !CheckActivation(kOp, qkv)) return;
  const int d = shape.head_dim;
  const bool ok = d > 0 && d % 2 == 0 && shape.n_kv_heads > 0 &&
                  qkv.cols() == int64_t{shape.n_heads + 2 * shape.n_kv_heads} * d &&
                  meta.num_tokens <= qkv.rows() && rope.cos.dtype == DType::kF32 &&
                  rope.sin.dtype == DType::kF32 && rope.cos.ndim == 2 && rope.cos.contiguous() &&
                  rope.sin.contiguous() && rope.cos.cols() == d / 2 && rope.sin.cols() == d / 2 &&
                  kv.k.ndim == 4 && kv.k.dtype == options_.activation_dtype &&
                  kv.k.dtype == kv.v.dtype && kv.k.shape == kv.v.shape &&
                  kv.k.dim(1) == shape.n_kv_heads && kv.k.dim(3) == d;
  if (!ok) {
    Reject(kOp, absl::StrCat("qkv ", qkv.ShapeString(), ", cos ", rope.cos.ShapeString(), ", k ",
                             kv.k.ShapeString(), ", heads ", shape.n_heads, "/", shape.n_kv_heads,
                             " x ", d));
    return;
  }
  RopeCacheArgs a;
  a.qkv = qkv.data;
  a.qkv_stride = RowStride(qkv);
  a.cos = rope.cos.as<float>();
  a.sin = rope.sin.as<float>();
  a.max_pos = rope.cos.rows();
  a.interleaved = rope.style == RopeStyle::kInterleaved;
  a.positions = meta.positions;
  a.slot_mapping = meta.slot_mapping;
  a.k_cache = kv.k.data;
  a.v_cache = kv.v.data;
  a.num_blocks = kv.k.dim(0);
  a.num_tokens = meta.num_tokens;
  a.n_heads = shape.n_heads;
  a.n_kv_heads = shape.n_kv_heads;
  a.head_dim = d;
  a.block_size = static_cast<int>(kv.k.dim(2));
  a.dtype = kernel_dtype_;
  GQA_CUDA_LATCH(errors_, LaunchRopeCacheWrite(a, stream_));
}

void CudaBackend::PagedAttention(const Tensor& q, const KvCacheLayer& kv,
                                 const AttentionMetadata& meta, const AttentionShape& shape,
                                 float scale, Tensor out) {
  constexpr std::string_view kOp = "PagedAttention";
  if (!Ready() || !CheckActivation(kOp, q) || !CheckActivation(kOp, out)) return;
  const int64_t q_cols = int64_t{shape.n_heads} * shape.head_dim;
  const bool ok =
      shape.n_kv_heads > 0 && shape.n_heads % shape.n_kv_heads == 0 && q.cols() == q_cols &&
      out.cols() == q_cols && q.rows() >= meta.num_tokens && out.rows() >= meta.num_tokens &&
      kv.k.ndim == 4 && kv.k.dtype == options_.activation_dtype && kv.k.dtype == kv.v.dtype &&
      kv.k.shape == kv.v.shape && kv.k.dim(1) == shape.n_kv_heads && kv.k.dim(3) == shape.head_dim;
  if (!ok) {
    Reject(kOp, absl::StrCat("q ", q.ShapeString(), ", out ", out.ShapeString(), ", k ",
                             kv.k.ShapeString(), ", heads ", shape.n_heads, "/", shape.n_kv_heads,
                             " x ", shape.head_dim));
    return;
  }
  if (meta.num_tokens == 0 || meta.num_seqs == 0) return;
  AttentionArgs a;
  a.q = q.data;
  a.q_stride = RowStride(q);
  a.k_cache = kv.k.data;
  a.v_cache = kv.v.data;
  a.out = out.data;
  a.out_stride = RowStride(out);
  a.query_start = meta.query_start;
  a.context_lens = meta.context_lens;
  a.block_tables = meta.block_tables;
  a.num_seqs = meta.num_seqs;
  a.num_tokens = meta.num_tokens;
  a.max_query_len = meta.max_query_len;
  a.max_context_len = meta.max_context_len;
  a.max_blocks_per_seq = meta.max_blocks_per_seq;
  a.n_heads = shape.n_heads;
  a.n_kv_heads = shape.n_kv_heads;
  a.head_dim = shape.head_dim;
  a.block_size = static_cast<int>(kv.k.dim(2));
  a.scale = scale;
  a.dtype = kernel_dtype_;

  if (!options_.force_generic_attention && TensorCoreAttentionSupports(a)) {
    const int splits = options_.decode_num_splits > 0 ? options_.decode_num_splits
                                                      : ChooseDecodeSplits(a, num_sms_);
    float* partial_out = nullptr;
    float* partial_lse = nullptr;
    if (splits > 1) {
      partial_out = DecodeScratch(DecodePartialBytes(a, splits));
      if (partial_out == nullptr) return;
      partial_lse = partial_out + size_t(a.num_seqs) * a.n_heads * splits * a.head_dim;
    }
    if (!GQA_CUDA_LATCH(errors_,
                        LaunchAttentionDecode(a, splits, partial_out, partial_lse, stream_))) {
      return;
    }
    if (a.max_query_len > 1) GQA_CUDA_LATCH(errors_, LaunchAttentionPrefill(a, stream_));
    return;
  }
  const size_t smem = GenericAttentionSmemBytes(a);
  if (smem > max_smem_per_block_) {
    Reject(kOp, absl::StrCat("group ", shape.n_heads / shape.n_kv_heads, " x head_dim ",
                             shape.head_dim, " x block ", a.block_size, " needs ", smem,
                             " bytes of shared memory; the device has ", max_smem_per_block_));
    return;
  }
  GQA_CUDA_LATCH(errors_, LaunchAttentionGeneric(a, stream_));
}

void CudaBackend::SiluMul(const Tensor& gate_up, Tensor out) {
  constexpr std::string_view kOp = "SiluMul";
  if (!Ready() || !CheckActivation(kOp, gate_up) || !CheckActivation(kOp, out)) return;
  if (gate_up.cols() != 2 * out.cols() || gate_up.rows() != out.rows()) {
    Reject(kOp, absl::StrCat("gate_up ", gate_up.ShapeString(), ", out ", out.ShapeString()));
    return;
  }
  GQA_CUDA_LATCH(errors_, LaunchSiluMul(gate_up.data, RowStride(gate_up), out.data, RowStride(out),
                                        out.rows(), out.cols(), kernel_dtype_, stream_));
}

void CudaBackend::GatherRows(const Tensor& x, const int32_t* rows, Tensor out) {
  constexpr std::string_view kOp = "GatherRows";
  if (!Ready()) return;
  if (x.ndim != 2 || out.ndim != 2 || x.dtype != out.dtype || x.cols() != out.cols()) {
    Reject(kOp, absl::StrCat("x ", x.ShapeString(), ", out ", out.ShapeString()));
    return;
  }
  GQA_CUDA_LATCH(errors_, LaunchGatherRows(x.data, RowStride(x), x.rows(), rows, out.data,
                                           RowStride(out), out.rows(), out.cols(),
                                           static_cast<int>(DTypeSize(x.dtype)), stream_));
}

void CudaBackend::ArgMaxRows(const Tensor& logits, int32_t* tokens, float* logprobs) {
  constexpr std::string_view kOp = "ArgMaxRows";
  if (!Ready()) return;
  if (logits.ndim != 2 || logits.dtype != DType::kF32 || logits.cols() <= 0 ||
      logits.rows() > std::numeric_limits<int32_t>::max()) {
    Reject(kOp, absl::StrCat("logits ", logits.ShapeString(), " (want f32 [rows, vocab])"));
    return;
  }
  GQA_CUDA_LATCH(errors_, LaunchArgMaxRows(logits.as<float>(), RowStride(logits), logits.rows(),
                                           logits.cols(), tokens, logprobs, stream_));
}

}  // namespace gqa::cuda
