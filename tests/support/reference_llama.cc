#include "tests/support/reference_llama.h"

#include <algorithm>
#include <cmath>

namespace gqa::testing {
namespace {

std::vector<float> ToF32(const Tensor& t) {
  std::vector<float> out(t.numel());
  if (!t.empty()) ConvertToF32(t.dtype, t.data, out.data(), out.size());
  return out;
}

// out[o] = sum_i w[o, i] * x[i] (+ b[o]); w is [n_out, n_in].
void MatVec(const std::vector<float>& w, const std::vector<float>& b, const float* x, int n_in,
            int n_out, float* out) {
  for (int o = 0; o < n_out; ++o) {
    double acc = b.empty() ? 0.0 : b[o];
    for (int i = 0; i < n_in; ++i) acc += double(w[size_t(o) * n_in + i]) * x[i];
    out[o] = static_cast<float>(acc);
  }
}

void RmsNorm(const float* x, const std::vector<float>& w, int n, float eps, float* out) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float inv = 1.0f / std::sqrt(static_cast<float>(ss / n) + eps);
  for (int i = 0; i < n; ++i) out[i] = x[i] * inv * w[i];
}

}  // namespace

ReferenceLlama::ReferenceLlama(const ModelWeights& w) : c_(w.config) {
  embed_ = ToF32(w.embed);
  final_norm_ = ToF32(w.final_norm);
  lm_head_ = ToF32(w.lm_head);
  for (const LayerWeights& l : w.layers) {
    layers_.push_back(Layer{ToF32(l.attn_norm), ToF32(l.wq), ToF32(l.wk), ToF32(l.wv),
                            ToF32(l.wo), ToF32(l.bq), ToF32(l.bk), ToF32(l.bv),
                            ToF32(l.ffn_norm), ToF32(l.w_gate), ToF32(l.w_up), ToF32(l.w_down)});
  }
  k_cache_.assign(c_.n_layers, std::vector<float>(size_t(c_.max_seq_len) * c_.kv_dim()));
  v_cache_ = k_cache_;
}

void ReferenceLlama::Rope(float* vec, int n_heads, int pos) const {
  const int hd = c_.head_dim;
  for (int h = 0; h < n_heads; ++h) {
    float* v = vec + h * hd;
    for (int i = 0; i < hd / 2; ++i) {
      const float freq = 1.0f / std::pow(c_.rope_theta, float(2 * i) / float(hd));
      const float angle = float(pos) * freq;
      const float cs = std::cos(angle), sn = std::sin(angle);
      // Interleaved (llama2.c) pairs (2i, 2i+1); halves (HF) pairs (i, i + hd/2).
      const int a = c_.rope_style == RopeStyle::kInterleaved ? 2 * i : i;
      const int b = c_.rope_style == RopeStyle::kInterleaved ? 2 * i + 1 : i + hd / 2;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * cs - x1 * sn;
      v[b] = x0 * sn + x1 * cs;
    }
  }
}

std::vector<float> ReferenceLlama::Forward(int token) {
  const int dim = c_.dim, hd = c_.head_dim, kv_dim = c_.kv_dim(), q_dim = c_.q_dim();
  const int group = c_.n_heads / c_.n_kv_heads;
  std::vector<float> x(embed_.begin() + size_t(token) * dim, embed_.begin() + size_t(token + 1) * dim);
  std::vector<float> xb(dim), q(q_dim), att(pos_ + 1), attn_out(q_dim), proj(dim);
  std::vector<float> gate(c_.hidden_dim), up(c_.hidden_dim);
  for (int l = 0; l < c_.n_layers; ++l) {
    const Layer& L = layers_[l];
    RmsNorm(x.data(), L.attn_norm, dim, c_.rms_norm_eps, xb.data());
    float* k = k_cache_[l].data() + size_t(pos_) * kv_dim;
    float* v = v_cache_[l].data() + size_t(pos_) * kv_dim;
    MatVec(L.wq, L.bq, xb.data(), dim, q_dim, q.data());
    MatVec(L.wk, L.bk, xb.data(), dim, kv_dim, k);
    MatVec(L.wv, L.bv, xb.data(), dim, kv_dim, v);
    Rope(q.data(), c_.n_heads, pos_);
    Rope(k, c_.n_kv_heads, pos_);
    for (int h = 0; h < c_.n_heads; ++h) {
      const int kvh = h / group;
      float max_score = -INFINITY;
      for (int t = 0; t <= pos_; ++t) {
        const float* kt = k_cache_[l].data() + size_t(t) * kv_dim + kvh * hd;
        double s = 0;
        for (int i = 0; i < hd; ++i) s += double(q[h * hd + i]) * kt[i];
        att[t] = static_cast<float>(s / std::sqrt(double(hd)));
        max_score = std::max(max_score, att[t]);
      }
      double sum = 0;
      for (int t = 0; t <= pos_; ++t) sum += att[t] = std::exp(att[t] - max_score);
      for (int i = 0; i < hd; ++i) {
        double acc = 0;
        for (int t = 0; t <= pos_; ++t) {
          acc += att[t] / sum * v_cache_[l][size_t(t) * kv_dim + kvh * hd + i];
        }
        attn_out[h * hd + i] = static_cast<float>(acc);
      }
    }
    MatVec(L.wo, {}, attn_out.data(), q_dim, dim, proj.data());
    for (int i = 0; i < dim; ++i) x[i] += proj[i];
    RmsNorm(x.data(), L.ffn_norm, dim, c_.rms_norm_eps, xb.data());
    MatVec(L.w_gate, {}, xb.data(), dim, c_.hidden_dim, gate.data());
    MatVec(L.w_up, {}, xb.data(), dim, c_.hidden_dim, up.data());
    for (int i = 0; i < c_.hidden_dim; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    MatVec(L.w_down, {}, gate.data(), c_.hidden_dim, dim, proj.data());
    for (int i = 0; i < dim; ++i) x[i] += proj[i];
  }
  RmsNorm(x.data(), final_norm_, dim, c_.rms_norm_eps, xb.data());
  std::vector<float> logits(c_.vocab_size);
  MatVec(lm_head_, {}, xb.data(), dim, c_.vocab_size, logits.data());
  ++pos_;
  return logits;
}

std::vector<int> ReferenceLlama::Greedy(const std::vector<int>& prompt, int steps) {
  Reset();
  std::vector<float> logits;
  for (int t : prompt) logits = Forward(t);
  std::vector<int> out;
  for (int s = 0; s < steps; ++s) {
    const int next = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    if (s + 1 < steps) logits = Forward(next);
  }
  return out;
}

}  // namespace gqa::testing
