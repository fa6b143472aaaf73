// The real SmolLM2-135M Q4_1 GGUF (Q4_1 layers, Q8_0 tied embeddings) on the
// CPU backend computing from its quantized weights (--dtype auto) against the
// reference path that dequantizes everything to f32 (--dtype f32): the same
// weights, so the logits differ only by the int8 quantization of the
// activations in the GEMMs that take it: the decode-sized ones of every
// row-major kernel, and every GEMM from a packed Q4 matrix (the layout the
// backend loads Q4 layers in where a SIMD kernel runs it,
// engine/quant/packed_blocks.h); the prefill-sized GEMMs from row-major weights
// dequantize weight tiles and run sgemm, the reference's arithmetic. The
// prompt goes through as decode steps of one token and as one prefill. Over a
// fixed English prompt, the relative (L2) error of a position's logits must
// stay below 0.3 and its mean below 0.1 (measured: worst 0.21, mean 0.05; the
// int8 rounding of each layer's activations compounds over 30 layers), 1e-4
// for a prefill without packed matrices, and the top-1 token must agree at
// >= 90% of positions (measured 39-41 of 43;
// bench/results/quantized_cpu_accuracy.md has the perplexity).
// Skips without the model file or without the kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/backend/cpu/cpu_gemm_quant.h"
#include "engine/model/model_loader.h"
#include "engine/quant/vec_dot.h"
#include "engine/tokenizer/gguf/gguf_tokenizer.h"
#include "tests/engine/runner/prompt_logits.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

constexpr char kPrompt[] =
    "The GNU General Public License is a free, copyleft license for software and other kinds of "
    "works. The licenses for most software and other practical works are designed to take away "
    "your freedom to share and change the works.";

TEST(QuantizedCpuLogitsTest, SmolLM2Q4_1AutoMatchesF32Reference) {
  const std::optional<std::string> path = testing::DefaultModelGguf();
  if (!path) GTEST_SKIP() << "the default model GGUF is absent";
  ModelSource source;
  source.path = *path;
  source.gguf_keep_quantized = true;
  absl::StatusOr<ModelWeights> weights = LoadModel(source);
  ASSERT_TRUE(weights.ok()) << weights.status();
  // The default file: Q4_1 layers, Q8_0 embeddings (GQA_DEFAULT_MODEL_GGUF may
  // name another quantized SmolLM2 for bench/results/quantized_cpu_accuracy.md).
  for (DType t :
       {weights->layers[0].wq.dtype, weights->layers[0].w_down.dtype, weights->embed.dtype}) {
    ASSERT_TRUE(IsQuantized(t)) << DTypeName(t);
    if (quant::BestVecDotKernel(t) == nullptr) GTEST_SKIP() << "no kernel for " << DTypeName(t);
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadGgufTokenizer(*path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::vector<int> encoded = (*tokenizer)->Encode(kPrompt);
  const std::vector<int32_t> ids(encoded.begin(), encoded.end());
  ASSERT_GE(ids.size(), 40u);

  CpuBackend quantized(2, CpuWeights::kAuto), reference(2, CpuWeights::kF32);
  absl::StatusOr<std::vector<float>> f = testing::PromptLogits(*weights, reference, ids);
  ASSERT_TRUE(f.ok()) << f.status();
  const int64_t vocab = weights->config.vocab_size, n = static_cast<int64_t>(ids.size());
  // Packed layers: the prefill takes the int8 path too.
  const bool packed =
      cpu::PackedGemmKernelFor(quant::PackedDType(weights->layers[0].wq.dtype)) != nullptr;
  for (int chunk : {1, 0}) {
    SCOPED_TRACE(::testing::Message() << "chunk " << chunk);
    absl::StatusOr<std::vector<float>> q = testing::PromptLogits(*weights, quantized, ids, chunk);
    ASSERT_TRUE(q.ok()) << q.status();
    const bool exact = chunk == 0 && !packed;
    const double bound = exact ? 1e-4 : 0.3, mean_bound = exact ? 1e-4 : 0.1;
    int top1_agree = 0;
    double worst = 0, sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float* a = q->data() + i * vocab;
      const float* b = f->data() + i * vocab;
      double diff = 0, norm = 0;
      int64_t arg_a = 0, arg_b = 0;
      for (int64_t v = 0; v < vocab; ++v) {
        diff += (a[v] - b[v]) * static_cast<double>(a[v] - b[v]);
        norm += b[v] * static_cast<double>(b[v]);
        if (a[v] > a[arg_a]) arg_a = v;
        if (b[v] > b[arg_b]) arg_b = v;
      }
      const double rel = std::sqrt(diff / norm);
      worst = std::max(worst, rel);
      sum += rel;
      EXPECT_LT(rel, bound) << "position " << i << ": " << rel;
      top1_agree += arg_a == arg_b;
    }
    EXPECT_LT(sum / n, mean_bound);
    EXPECT_GE(top1_agree * 10, n * 9) << top1_agree << " of " << n << " positions agree";
    std::printf(
        "chunk %d: %lld positions, relative error mean %.5f worst %.5f, top-1 agreement %d/%lld\n",
        chunk, static_cast<long long>(n), sum / n, worst, top1_agree, static_cast<long long>(n));
  }
}

}  // namespace
}  // namespace gqa
