#include "engine/model/device_weights.h"

#include <vector>

#include "engine/common/status_macros.h"

namespace gqa {
namespace {

int64_t Rows(const Tensor& t) { return t.shape[0]; }
int64_t Cols(const Tensor& t) { return t.ndim == 1 ? 1 : t.shape[1]; }

}  // namespace

absl::StatusOr<DeviceTensor> UploadConcatenated(Backend& backend, std::initializer_list<Tensor> parts,
                                                DType dtype) {
  const int64_t cols = Cols(*parts.begin());
  const bool one_dim = parts.begin()->ndim == 1;
  int64_t rows = 0;
  for (const Tensor& p : parts) rows += Rows(p);
  DeviceTensor out;
  GQA_ASSIGN_OR_RETURN(out.buffer, backend.Allocate(rows * cols * DTypeSize(dtype)));
  out.view = one_dim ? Tensor::Make(out.buffer.data(), dtype, {rows})
                     : Tensor::Make(out.buffer.data(), dtype, {rows, cols});
  // Convert through one staging buffer per part: host dtype -> f32 -> target dtype.
  std::vector<float> f32;
  std::vector<char> staged;
  char* dst = static_cast<char*>(out.buffer.data());
  for (const Tensor& p : parts) {
    const size_t n = static_cast<size_t>(p.numel());
    f32.resize(n);
    ConvertToF32(p.dtype, p.data, f32.data(), n);
    staged.resize(n * DTypeSize(dtype));
    ConvertFromF32(f32.data(), dtype, staged.data(), n);
    backend.CopyToDevice(dst, staged.data(), staged.size());
    dst += staged.size();
  }
  return out;
}

absl::StatusOr<DeviceWeights> UploadWeights(const ModelWeights& weights, Backend& backend) {
  const DType dt = backend.activation_dtype();
  DeviceWeights d;
  GQA_ASSIGN_OR_RETURN(d.embed, UploadConcatenated(backend, {weights.embed}, dt));
  GQA_ASSIGN_OR_RETURN(d.final_norm, UploadConcatenated(backend, {weights.final_norm}, dt));
  if (weights.lm_head.data != weights.embed.data) {
    GQA_ASSIGN_OR_RETURN(d.lm_head, UploadConcatenated(backend, {weights.lm_head}, dt));
  }
  for (const LayerWeights& w : weights.layers) {
    DeviceLayerWeights l;
    GQA_ASSIGN_OR_RETURN(l.attn_norm, UploadConcatenated(backend, {w.attn_norm}, dt));
    GQA_ASSIGN_OR_RETURN(l.wqkv, UploadConcatenated(backend, {w.wq, w.wk, w.wv}, dt));
    if (weights.config.attention_bias) {
      GQA_ASSIGN_OR_RETURN(l.bqkv, UploadConcatenated(backend, {w.bq, w.bk, w.bv}, dt));
    }
    GQA_ASSIGN_OR_RETURN(l.wo, UploadConcatenated(backend, {w.wo}, dt));
    GQA_ASSIGN_OR_RETURN(l.ffn_norm, UploadConcatenated(backend, {w.ffn_norm}, dt));
    GQA_ASSIGN_OR_RETURN(l.w_gate_up, UploadConcatenated(backend, {w.w_gate, w.w_up}, dt));
    GQA_ASSIGN_OR_RETURN(l.w_down, UploadConcatenated(backend, {w.w_down}, dt));
    d.layers.push_back(std::move(l));
  }
  auto add = [&](const DeviceTensor& t) { d.total_bytes += t.buffer.bytes(); };
  add(d.embed);
  add(d.final_norm);
  add(d.lm_head);
  for (const DeviceLayerWeights& l : d.layers) {
    for (const DeviceTensor* t : {&l.attn_norm, &l.wqkv, &l.bqkv, &l.wo, &l.ffn_norm, &l.w_gate_up,
                                  &l.w_down}) {
      add(*t);
    }
  }
  return d;
}

}  // namespace gqa
