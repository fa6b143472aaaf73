// RopeStyle: how RoPE pairs the dimensions of a head. Here, below both the
// model config (which records a checkpoint's style) and the backend (which
// rotates by it), so backend/ never includes model/.
#pragma once

namespace gqa {

enum class RopeStyle {
  kHalves,       // HF `rotate_half`: dim i pairs with dim i + head_dim/2
  kInterleaved,  // llama2.c / Meta: dim 2i pairs with dim 2i+1
};

}  // namespace gqa
