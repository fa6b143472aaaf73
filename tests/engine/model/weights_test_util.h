// Helpers shared by the model-loading tests: tiny configs, bit-exact tensor
// comparison and raw file writing.
#pragma once

#include <cstring>
#include <fstream>
#include <string>

#include "engine/model/host_tensor.h"
#include "engine/model/model_weights.h"
#include "engine/model/weight_names.h"
#include "gtest/gtest.h"

namespace gqa::testing {

// A tiny GQA config that llama2.c can also express (head_dim = dim / n_heads,
// eps 1e-5, theta 10000).
inline ModelConfig TinyConfig(RopeStyle style = RopeStyle::kHalves) {
  ModelConfig c;
  c.name = "llama";
  c.dim = 16;
  c.hidden_dim = 24;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.vocab_size = 32;
  c.max_seq_len = 8;
  c.rms_norm_eps = 1e-5f;
  c.rope_style = style;
  return c;
}

// Same shape, dtype and bytes (2-D views compared row by row).
inline bool SameBits(const Tensor& a, const Tensor& b) {
  if (a.dtype != b.dtype || a.ndim != b.ndim || a.shape != b.shape) return false;
  const int64_t rows = a.ndim == 2 ? a.rows() : 1;
  const size_t row_bytes = (a.ndim == 2 ? a.cols() : a.numel()) * DTypeSize(a.dtype);
  for (int64_t r = 0; r < rows; ++r) {
    if (std::memcmp(RowPtr(a, r), RowPtr(b, r), row_bytes) != 0) return false;
  }
  return true;
}

// Every tensor of `a` and `b` (lm_head included) is bit-identical.
inline void ExpectSameWeights(const ModelWeights& a, const ModelWeights& b) {
  const std::vector<NamedTensor> ta = HfNamedTensors(a), tb = HfNamedTensors(b);
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    ASSERT_EQ(ta[i].name, tb[i].name);
    EXPECT_TRUE(SameBits(ta[i].tensor, tb[i].tensor))
        << ta[i].name << ": " << ta[i].tensor.ShapeString() << " vs " << tb[i].tensor.ShapeString();
  }
  EXPECT_TRUE(SameBits(a.lm_head, b.lm_head)) << "lm_head";
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace gqa::testing
