// FaultInjectingBackend: the CPU backend with a device failure on cue, for
// tests of what the engine and server do when a backend fails mid-run (the
// CUDA backend latches its first CUDA error the same way: ops keep returning,
// status() reports the error, results are garbage).
//
// It fails at the `fail_at`-th SiluMul call (one per layer per step): from
// then on status() is INTERNAL and every op still runs on the CPU backend
// underneath, so nothing crashes and only status() tells.
//
// Thread ownership: as Backend (one thread at a time).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "engine/backend/backend.h"

namespace gqa::testing {

class FaultInjectingBackend final : public Backend {
 public:
  explicit FaultInjectingBackend(int fail_at, int threads = 2)
      : inner_(MakeCpuBackend(threads)), fail_at_(fail_at) {}

  std::string_view name() const override { return inner_->name(); }
  DType activation_dtype() const override { return inner_->activation_dtype(); }
  absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) override { return inner_->Allocate(bytes); }
  void CopyToDevice(void* dst, const void* src, size_t bytes) override {
    inner_->CopyToDevice(dst, src, bytes);
  }
  void CopyToHost(void* dst, const void* src, size_t bytes) override {
    inner_->CopyToHost(dst, src, bytes);
  }
  absl::Status status() const override { return status_; }

  void EmbeddingLookup(const Tensor& table, const int32_t* ids, Tensor out) override {
    inner_->EmbeddingLookup(table, ids, out);
  }
  void RmsNorm(const Tensor& x, const Tensor& weight, float eps, Tensor out) override {
    inner_->RmsNorm(x, weight, eps, out);
  }
  void AddRmsNorm(Tensor residual, const Tensor& x, const Tensor& weight, float eps,
                  Tensor out) override {
    inner_->AddRmsNorm(residual, x, weight, eps, out);
  }
  void Gemm(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor y) override {
    inner_->Gemm(x, w, bias, y);
  }
  void RopeAndCacheWrite(Tensor qkv, const RopeTables& rope, const AttentionShape& shape,
                         const AttentionMetadata& meta, KvCacheLayer kv) override {
    inner_->RopeAndCacheWrite(qkv, rope, shape, meta, kv);
  }
  void PagedAttention(const Tensor& q, const KvCacheLayer& kv, const AttentionMetadata& meta,
                      const AttentionShape& shape, float scale, Tensor out) override {
    inner_->PagedAttention(q, kv, meta, shape, scale, out);
  }
  void SiluMul(const Tensor& gate_up, Tensor out) override {
    if (++num_silu_calls_ == fail_at_) {
      status_ = absl::InternalError("injected device fault (an illegal memory access, say)");
    }
    inner_->SiluMul(gate_up, out);
  }
  void GatherRows(const Tensor& x, const int32_t* rows, Tensor out) override {
    inner_->GatherRows(x, rows, out);
  }

 private:
  std::unique_ptr<Backend> inner_;
  const int fail_at_;
  int num_silu_calls_ = 0;
  absl::Status status_;
};

}  // namespace gqa::testing
