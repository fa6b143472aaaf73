// ForwardingBackend: a Backend that hands every call to an inner backend (the
// CPU one by default). Test doubles derive from it and override the one thing
// they change: FaultInjectingBackend fails on cue, DeviceGreedyCpuBackend
// takes the device's greedy path (Backend::greedy_on_device) on the CPU.
//
// Thread ownership: as Backend (one thread at a time).
#pragma once

#include <memory>

#include "engine/backend/backend.h"

namespace gqa::testing {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  std::string_view name() const override { return inner_->name(); }
  DType activation_dtype() const override { return inner_->activation_dtype(); }
  DType kv_cache_dtype() const override { return inner_->kv_cache_dtype(); }
  DType MatrixWeightDType(DType stored) const override {
    return inner_->MatrixWeightDType(stored);
  }
  DType MatrixLayoutDType(DType kept, int64_t rows) const override {
    return inner_->MatrixLayoutDType(kept, rows);
  }
  absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) override { return inner_->Allocate(bytes); }
  void CopyToDevice(void* dst, const void* src, size_t bytes) override {
    inner_->CopyToDevice(dst, src, bytes);
  }
  void CopyToHost(void* dst, const void* src, size_t bytes) override {
    inner_->CopyToHost(dst, src, bytes);
  }
  void Synchronize() override { inner_->Synchronize(); }
  absl::Status status() const override { return inner_->status(); }

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
  void SiluMul(const Tensor& gate_up, Tensor out) override { inner_->SiluMul(gate_up, out); }
  void GatherRows(const Tensor& x, const int32_t* rows, Tensor out) override {
    inner_->GatherRows(x, rows, out);
  }
  void ArgMaxRows(const Tensor& logits, int32_t* tokens, float* logprobs) override {
    inner_->ArgMaxRows(logits, tokens, logprobs);
  }
  bool greedy_on_device() const override { return inner_->greedy_on_device(); }

 private:
  std::unique_ptr<Backend> inner_;
};

// The CPU backend taking the device's greedy path: the runner decodes greedy
// rows with ArgMaxRows and copies back only token ids and logprobs, as on a
// GPU, so that path runs in every CPU test suite.
class DeviceGreedyCpuBackend final : public ForwardingBackend {
 public:
  explicit DeviceGreedyCpuBackend(int threads = 2) : ForwardingBackend(MakeCpuBackend(threads)) {}
  bool greedy_on_device() const override { return true; }
  void ArgMaxRows(const Tensor& logits, int32_t* tokens, float* logprobs) override {
    num_argmax_rows_ += logits.rows();
    ForwardingBackend::ArgMaxRows(logits, tokens, logprobs);
  }
  // Logits rows given to ArgMaxRows so far (greedy rows decoded "on the device"
  // and the other rows of their chunks).
  int64_t num_argmax_rows() const { return num_argmax_rows_; }

 private:
  int64_t num_argmax_rows_ = 0;
};

}  // namespace gqa::testing
