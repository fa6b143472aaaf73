#include "engine/model/device_weights.h"

#include <cstring>
#include <iostream>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/model/host_tensor.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/packed_blocks.h"

namespace gqa {
namespace {

// A 1-D tensor (bias, norm) is a column: parts concatenate into one vector.
int64_t Rows(const Tensor& t) { return t.shape[0]; }
int64_t Cols(const Tensor& t) { return t.ndim == 1 ? 1 : t.shape[1]; }

// Uploads a matrix fused from `parts`, logging once per (from, to) fallback.
class MatrixUploader {
 public:
  MatrixUploader(Backend& backend, std::ostream& log) : backend_(backend), log_(log) {}

  absl::StatusOr<DeviceTensor> Upload(std::initializer_list<Tensor> parts) {
    const DType dtype = FusedMatrixDType(backend_, parts);
    for (const Tensor& p : parts) {
      if (p.dtype != dtype && logged_.insert({p.dtype, dtype}).second) {
        log_ << "weights: " << DTypeName(p.dtype) << " matrices converted to " << DTypeName(dtype)
             << " for the " << backend_.name() << " backend\n";
      }
    }
    GQA_ASSIGN_OR_RETURN(DeviceTensor t, UploadConcatenated(backend_, parts, dtype));
    GQA_RETURN_IF_ERROR(PackMatrix(backend_, t));  // the backend's layout, if it has one
    return t;
  }

 private:
  Backend& backend_;
  std::ostream& log_;
  std::set<std::pair<DType, DType>> logged_;
};

}  // namespace

DType FusedMatrixDType(const Backend& backend, std::initializer_list<Tensor> parts) {
  const DType first = backend.MatrixWeightDType(parts.begin()->dtype);
  for (const Tensor& p : parts) {
    if (backend.MatrixWeightDType(p.dtype) != first) return backend.activation_dtype();
  }
  return first;
}

absl::StatusOr<DeviceTensor> UploadConcatenated(Backend& backend,
                                                std::initializer_list<Tensor> parts, DType dtype) {
  const int64_t cols = Cols(*parts.begin());
  const bool one_dim = parts.begin()->ndim == 1;
  int64_t rows = 0;
  for (const Tensor& p : parts) {
    if (p.dtype != dtype && IsQuantized(dtype)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot convert ", std::string(DTypeName(p.dtype)), " weights to ",
                       std::string(DTypeName(dtype))));
    }
    rows += Rows(p);
  }
  DeviceTensor out;
  GQA_ASSIGN_OR_RETURN(out.buffer, backend.Allocate(DTypeBytes(dtype, rows * cols)));
  out.view = one_dim ? Tensor::Make(out.buffer.data(), dtype, {rows})
                     : Tensor::Make(out.buffer.data(), dtype, {rows, cols});
  // One copy per part: its own bytes when it is dense and already `dtype`,
  // else staged run by run (a 2-D part's rows; a 1-D part is one run):
  // same dtype copied, any other part dtype -> f32 -> `dtype`.
  std::vector<float> f32;
  std::vector<char> staged;
  char* dst = static_cast<char*>(out.buffer.data());
  for (const Tensor& p : parts) {
    const int64_t runs = p.ndim == 2 ? p.rows() : 1, len = p.ndim == 2 ? p.cols() : p.numel();
    const size_t run_bytes = DTypeBytes(dtype, len), bytes = runs * run_bytes;
    if (p.dtype == dtype && p.contiguous()) {
      backend.CopyToDevice(dst, p.data, bytes);
      dst += bytes;
      continue;
    }
    staged.resize(bytes);
    f32.resize(len);
    for (int64_t r = 0; r < runs; ++r) {
      char* run = staged.data() + r * run_bytes;
      if (p.dtype == dtype) {
        std::memcpy(run, RowPtr(p, r), run_bytes);
      } else {
        quant::DequantizeRow(p.dtype, RowPtr(p, r), f32.data(), len);
        ConvertFromF32(f32.data(), dtype, run, len);
      }
    }
    backend.CopyToDevice(dst, staged.data(), bytes);
    dst += bytes;
  }
  return out;
}

absl::Status PackMatrix(Backend& backend, DeviceTensor& matrix) {
  const Tensor& v = matrix.view;
  const DType packed = backend.MatrixLayoutDType(v.dtype, v.rows());
  if (packed == v.dtype) return absl::OkStatus();
  // Staged through host memory: any backend, at load time only.
  const size_t bytes = matrix.buffer.bytes();
  std::vector<char> row_major(bytes), out(bytes);
  backend.CopyToHost(row_major.data(), v.data, bytes);
  quant::PackRows(v.dtype, row_major.data(), out.data(), v.rows(), v.cols());
  backend.CopyToDevice(matrix.buffer.data(), out.data(), bytes);
  matrix.view.dtype = packed;
  return absl::OkStatus();
}

absl::StatusOr<DeviceWeights> UploadWeights(const ModelWeights& weights, Backend& backend,
                                            std::ostream* log) {
  const DType dt = backend.activation_dtype();
  MatrixUploader matrices(backend, log != nullptr ? *log : std::clog);
  DeviceWeights d;
  GQA_ASSIGN_OR_RETURN(d.embed, matrices.Upload({weights.embed}));
  GQA_ASSIGN_OR_RETURN(d.final_norm, UploadConcatenated(backend, {weights.final_norm}, dt));
  if (weights.lm_head.data != weights.embed.data) {
    GQA_ASSIGN_OR_RETURN(d.lm_head, matrices.Upload({weights.lm_head}));
  }
  for (const LayerWeights& w : weights.layers) {
    DeviceLayerWeights l;
    GQA_ASSIGN_OR_RETURN(l.attn_norm, UploadConcatenated(backend, {w.attn_norm}, dt));
    GQA_ASSIGN_OR_RETURN(l.wqkv, matrices.Upload({w.wq, w.wk, w.wv}));
    if (weights.config.attention_bias) {
      GQA_ASSIGN_OR_RETURN(l.bqkv, UploadConcatenated(backend, {w.bq, w.bk, w.bv}, dt));
    }
    GQA_ASSIGN_OR_RETURN(l.wo, matrices.Upload({w.wo}));
    GQA_ASSIGN_OR_RETURN(l.ffn_norm, UploadConcatenated(backend, {w.ffn_norm}, dt));
    GQA_ASSIGN_OR_RETURN(l.w_gate_up, matrices.Upload({w.w_gate, w.w_up}));
    GQA_ASSIGN_OR_RETURN(l.w_down, matrices.Upload({w.w_down}));
    d.layers.push_back(std::move(l));
  }
  auto add = [&](const DeviceTensor& t) { d.total_bytes += t.buffer.bytes(); };
  add(d.embed);
  add(d.final_norm);
  add(d.lm_head);
  for (const DeviceLayerWeights& l : d.layers) {
    for (const DeviceTensor* t :
         {&l.attn_norm, &l.wqkv, &l.bqkv, &l.wo, &l.ffn_norm, &l.w_gate_up, &l.w_down}) {
      add(*t);
    }
  }
  return d;
}

}  // namespace gqa
