// llama2.c checkpoints: the 7-int32 header, the config it implies and the
// exact file size it implies. A parsed file's views are read end to end.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/model/llama2c_loader.h"

namespace {

uint8_t Touch(const gqa::Tensor& t) {
  if (t.data == nullptr) return 0;
  const auto* p = static_cast<const uint8_t*>(t.data);
  const size_t nbytes = static_cast<size_t>(t.numel()) * sizeof(float);
  return nbytes == 0 ? 0 : static_cast<uint8_t>(p[0] + p[nbytes - 1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto w = gqa::Llama2cFromBytes(std::span<const uint8_t>(data, size), "fuzz");
  if (!w.ok()) return 0;
  uint8_t sum = Touch(w->embed) + Touch(w->final_norm) + Touch(w->lm_head);
  for (const gqa::LayerWeights& l : w->layers) {
    for (const gqa::Tensor* t :
         {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_down, &l.w_up}) {
      sum += Touch(*t);
    }
  }
  volatile uint8_t sink = sum;
  (void)sink;
  return 0;
}
