#include "engine/backend/cuda/cuda_gemm.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/backend/cuda/cuda_check.h"
#include "engine/backend/cuda/kernels.h"

namespace gqa::cuda {
namespace {

// Largest power of two (<= 256) dividing the address: what cuBLASLt may assume.
int64_t Alignment(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a == 0) return 256;
  int64_t align = 1;
  while (align < 256 && a % (align * 2) == 0) align *= 2;
  return align;
}

// What cuBLASLt may assume of a matrix: its start and every row start
// (pointer + i * ld elements) are aligned to this.
int64_t MatrixAlignment(const void* p, int64_t ld, cudaDataType_t type) {
  const int64_t row_bytes = ld * (type == CUDA_R_32F ? 4 : 2);
  return std::min(Alignment(p), Alignment(reinterpret_cast<const void*>(row_bytes)));
}

// Plans are cheap to keep but each costs a heuristic query to make; a
// serving process sees one per distinct row count per layer shape.
constexpr size_t kMaxPlans = 8192;

}  // namespace

absl::StatusOr<std::unique_ptr<CublasLtGemm>> CublasLtGemm::Create(size_t workspace_bytes) {
  std::unique_ptr<CublasLtGemm> g(new CublasLtGemm());
  GQA_CUBLAS_RETURN_IF_ERROR(cublasLtCreate(&g->handle_));
  GQA_CUBLAS_RETURN_IF_ERROR(cublasCreate(&g->blas_));
  // Default math: no TF32 for fp32 operands.
  GQA_CUBLAS_RETURN_IF_ERROR(cublasSetMathMode(g->blas_, CUBLAS_DEFAULT_MATH));
  if (workspace_bytes > 0) {
    GQA_CUDA_RETURN_IF_ERROR(cudaMalloc(&g->workspace_, workspace_bytes));
    g->workspace_bytes_ = workspace_bytes;
  }
  return g;
}

CublasLtGemm::~CublasLtGemm() {
  for (auto& [key, plan] : plans_) DestroyPlan(plan);
  if (workspace_ != nullptr) cudaFree(workspace_);
  if (handle_ != nullptr) cublasLtDestroy(handle_);
  if (blas_ != nullptr) cublasDestroy(blas_);
}

void CublasLtGemm::DestroyPlan(Plan& p) {
  if (p.desc) cublasLtMatmulDescDestroy(p.desc);
  if (p.w_layout) cublasLtMatrixLayoutDestroy(p.w_layout);
  if (p.x_layout) cublasLtMatrixLayoutDestroy(p.x_layout);
  if (p.y_layout) cublasLtMatrixLayoutDestroy(p.y_layout);
  p = Plan{};
}

absl::StatusOr<CublasLtGemm::Plan> CublasLtGemm::MakePlan(const GemmOperands& op, const Key& key) {
  Plan p;
  // Row-major y[m, n] = x[m, k] w[n, k]^T is column-major
  // y^T[n, m] = op(W)[n, k] * X^T[k, m] with W stored column-major [k, n]
  // (transposed by the op) and X^T stored column-major [k, m].
  const bool all_f32 = op.x_type == CUDA_R_32F && op.w_type == CUDA_R_32F;
  auto status = [&]() -> absl::Status {
    GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescCreate(&p.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t trans = CUBLAS_OP_T, no_trans = CUBLAS_OP_N;
    GQA_CUBLAS_RETURN_IF_ERROR(
        cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof(trans)));
    GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                                              &no_trans, sizeof(no_trans)));
    if (op.bias != nullptr) {
      const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(
          p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
      const cudaDataType_t bias_type = op.y_type;
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(
          p.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof(bias_type)));
    }
    GQA_CUBLAS_RETURN_IF_ERROR(
        cublasLtMatrixLayoutCreate(&p.w_layout, op.w_type, op.k, op.n, op.ldw));
    GQA_CUBLAS_RETURN_IF_ERROR(
        cublasLtMatrixLayoutCreate(&p.x_layout, op.x_type, op.k, op.m, op.ldx));
    GQA_CUBLAS_RETURN_IF_ERROR(
        cublasLtMatrixLayoutCreate(&p.y_layout, op.y_type, op.n, op.m, op.ldy));

    cublasLtMatmulPreference_t pref = nullptr;
    GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate(&pref));
    auto heuristic = [&]() -> absl::Status {
      const size_t ws = workspace_bytes_;
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
          pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
      const uint32_t align_w = static_cast<uint32_t>(key[10]),
                     align_x = static_cast<uint32_t>(key[11]);
      const uint32_t align_y = static_cast<uint32_t>(key[12]);
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
          pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_w, sizeof(align_w)));
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
          pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_x, sizeof(align_x)));
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
          pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_y, sizeof(align_y)));
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
          pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_y, sizeof(align_y)));
      if (!all_f32) {
        // Split-K partial sums in fp32 (the compute type), never in bf16/f16.
        const uint32_t mask =
            CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
        GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
            pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask, sizeof(mask)));
      }
      cublasLtMatmulHeuristicResult_t result{};
      int found = 0;
      GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.w_layout,
                                                                p.x_layout, p.y_layout, p.y_layout,
                                                                pref, 1, &result, &found));
      if (found == 0 && !all_f32) {
        // No algorithm keeps split-K sums in fp32 for this shape (seen with
        // bias epilogues): let cuBLASLt choose freely rather than fail.
        const uint32_t any = CUBLASLT_REDUCTION_SCHEME_MASK;
        GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
            pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &any, sizeof(any)));
        GQA_CUBLAS_RETURN_IF_ERROR(
            cublasLtMatmulAlgoGetHeuristic(handle_, p.desc, p.w_layout, p.x_layout, p.y_layout,
                                           p.y_layout, pref, 1, &result, &found));
      }
      if (found == 0) {
        return absl::UnimplementedError(
            absl::StrCat("cuda gemm: cuBLASLt has no algorithm for m=", op.m, " n=", op.n,
                         " k=", op.k, " (types x ", op.x_type, " w ", op.w_type, " y ", op.y_type,
                         ", bias ", op.bias != nullptr, ")"));
      }
      p.algo = result.algo;
      return absl::OkStatus();
    }();
    cublasLtMatmulPreferenceDestroy(pref);
    return heuristic;
  }();
  if (!status.ok()) {
    DestroyPlan(p);
    return status;
  }
  return p;
}

absl::Status CublasLtGemm::Run(const GemmOperands& op, cudaStream_t stream) {
  if (op.m == 0 || op.n == 0) return absl::OkStatus();
  const Key key = {op.m,
                   op.n,
                   op.k,
                   op.ldx,
                   op.ldw,
                   op.ldy,
                   op.x_type,
                   op.w_type,
                   op.y_type,
                   op.bias != nullptr,
                   MatrixAlignment(op.w, op.ldw, op.w_type),
                   MatrixAlignment(op.x, op.ldx, op.x_type),
                   MatrixAlignment(op.y, op.ldy, op.y_type),
                   Alignment(op.bias)};
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    if (plans_.size() >= kMaxPlans) {
      for (auto& [k, plan] : plans_) DestroyPlan(plan);
      plans_.clear();
    }
    absl::StatusOr<Plan> plan = MakePlan(op, key);
    if (!plan.ok() && plan.status().code() != absl::StatusCode::kUnimplemented)
      return plan.status();
    Plan fallback;
    fallback.gemm_ex = true;
    it = plans_.emplace(key, plan.ok() ? *plan : fallback).first;
  }
  Plan& p = it->second;
  if (p.gemm_ex) return RunGemmEx(op, stream);
  if (op.bias != nullptr) {
    GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(
        p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &op.bias, sizeof(op.bias)));
  }
  const float alpha = 1.0f, beta = 0.0f;
  GQA_CUBLAS_RETURN_IF_ERROR(cublasLtMatmul(handle_, p.desc, &alpha, op.w, p.w_layout, op.x,
                                            p.x_layout, &beta, op.y, p.y_layout, op.y, p.y_layout,
                                            &p.algo, workspace_, workspace_bytes_, stream));
  return absl::OkStatus();
}

absl::Status CublasLtGemm::RunGemmEx(const GemmOperands& op, cudaStream_t stream) {
  float beta = 0.0f;
  if (op.bias != nullptr) {  // y = bias in every row, then y = x w^T + 1 * y
    const int elem = op.y_type == CUDA_R_32F ? 4 : 2;
    GQA_CUDA_RETURN_IF_ERROR(LaunchBroadcastRow(op.bias, op.y, op.ldy, op.m, op.n, elem, stream));
    beta = 1.0f;
  }
  const float alpha = 1.0f;
  GQA_CUBLAS_RETURN_IF_ERROR(cublasSetStream(blas_, stream));
  GQA_CUBLAS_RETURN_IF_ERROR(
      cublasGemmEx(blas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(op.n), static_cast<int>(op.m),
                   static_cast<int>(op.k), &alpha, op.w, op.w_type, static_cast<int>(op.ldw), op.x,
                   op.x_type, static_cast<int>(op.ldx), &beta, op.y, op.y_type,
                   static_cast<int>(op.ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return absl::OkStatus();
}

}  // namespace gqa::cuda
