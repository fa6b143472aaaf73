// LoadGgufModel: llama GGUFs written as llama.cpp's converter writes them
// load back to the same weights (q/k rows in interleaved order), quantized
// tensors are dequantized exactly, and every missing, unexpected or misshapen
// tensor or bad key is an error naming it. Also the tiny-random llama and the
// real SmolLM2 GGUF (skipped when absent).
#include "engine/model/gguf_loader.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/gguf/dequantize.h"
#include "engine/model/dummy_weights.h"
#include "engine/model/model_loader.h"
#include "engine/model/rope_permute.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using gguf::GgmlType;
using ::testing::HasSubstr;

// Row lengths a multiple of 32 so that Q8_0 can store every matrix.
ModelConfig QuantizableConfig(bool tied) {
  ModelConfig c = testing::TinyConfig();
  c.dim = 32;
  c.hidden_dim = 64;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.vocab_size = 40;
  c.tie_word_embeddings = tied;
  return c;
}

ModelWeights Dummy(const ModelConfig& c, uint64_t seed = 5) {
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(c, DType::kF32, seed);
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

class GgufLoaderTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("model.gguf"); }
  std::string LoadError(const testing::GgufBuilder& b) {
    EXPECT_TRUE(testing::WriteBytes(b.Build(), Path()).ok());
    absl::StatusOr<ModelWeights> w = LoadGgufModel(Path());
    EXPECT_FALSE(w.ok());
    return w.ok() ? "" : std::string(w.status().message());
  }
  testing::ScratchDir dir_;
};

TEST_F(GgufLoaderTest, F32RoundTripGivesTheSameWeightsInInterleavedOrder) {
  for (bool tied : {false, true}) {
    const ModelWeights original = Dummy(QuantizableConfig(tied));
    ASSERT_TRUE(testing::WriteLlamaGguf(original, Path()).ok());
    ModelSource source;
    source.path = Path();  // "auto" picks GGUF by the name
    absl::StatusOr<ModelWeights> w = LoadModel(source);
    ASSERT_TRUE(w.ok()) << w.status();
    const ModelConfig& c = w->config;
    EXPECT_EQ(c.name, original.config.name);
    EXPECT_EQ(c.dim, 32);
    EXPECT_EQ(c.hidden_dim, 64);
    EXPECT_EQ(c.n_layers, 2);
    EXPECT_EQ(c.n_heads, 4);
    EXPECT_EQ(c.n_kv_heads, 2);
    EXPECT_EQ(c.head_dim, 8);
    EXPECT_EQ(c.vocab_size, 40);
    EXPECT_EQ(c.max_seq_len, original.config.max_seq_len);
    EXPECT_EQ(c.rms_norm_eps, original.config.rms_norm_eps);
    EXPECT_EQ(c.rope_theta, original.config.rope_theta);
    EXPECT_EQ(c.tie_word_embeddings, tied);
    EXPECT_EQ(c.rope_style, RopeStyle::kInterleaved);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_EQ(c.dtype, DType::kF32);
    // Undoing the converter's permutation gives the original bits back.
    absl::StatusOr<ModelWeights> halves = WithRopeStyle(*w, RopeStyle::kHalves);
    ASSERT_TRUE(halves.ok()) << halves.status();
    testing::ExpectSameWeights(*halves, original);
    EXPECT_EQ(w->lm_head.data == w->embed.data, tied);
  }
}

TEST_F(GgufLoaderTest, QuantizedTensorsAreDequantizedExactly) {
  const ModelWeights original = Dummy(QuantizableConfig(false));
  const std::vector<uint8_t> bytes = testing::LlamaGguf(original, GgmlType::kQ8_0).Build();
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file =
      gguf::GgufFile::FromBytes(bytes, "q8.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  for (DType target : {DType::kF32, DType::kBF16}) {
    absl::StatusOr<ModelWeights> w = LoadGgufWeights(**file, target);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->config.dtype, target);
    EXPECT_EQ(w->layers[0].attn_norm.dtype, DType::kF32);  // F32 in the file: a view
    const gguf::TensorInfo* t = (*file)->FindTensor("blk.1.ffn_down.weight");
    ASSERT_NE(t, nullptr);
    std::vector<float> expected(t->numel());
    ASSERT_TRUE(gguf::DequantizeRow(t->type, t->data, expected.data(), t->numel()).ok());
    const std::vector<float> got = TensorToF32(w->layers[1].w_down);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const float want = target == DType::kF32 ? expected[i] : Bf16ToF32(F32ToBf16(expected[i]));
      ASSERT_EQ(got[i], want) << i;
    }
    // Q8_0 keeps the values to within half a step of each block's scale.
    const std::vector<float> ref = TensorToF32(original.layers[1].w_down);
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(got[i], ref[i], 0.02f) << i;
  }
}

// keep_quantized: the engine's block types stay views of the file's bytes
// (nothing copied, nothing rewritten), the norms F32 views; off (the
// default, as above), the same file loads dequantized.
TEST_F(GgufLoaderTest, KeepQuantizedLeavesBlocksInTheFile) {
  const ModelWeights original = Dummy(QuantizableConfig(false));
  const std::vector<uint8_t> bytes = testing::LlamaGguf(original, GgmlType::kQ8_0).Build();
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file =
      gguf::GgufFile::FromBytes(bytes, "q8.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  std::ostringstream log;
  absl::StatusOr<ModelWeights> w =
      LoadGgufWeights(**file, GgufLoadOptions{.keep_quantized = true, .log = &log});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->config.dtype, DType::kQ8_0);
  EXPECT_EQ(w->layers[0].attn_norm.dtype, DType::kF32);
  for (const char* name : {"blk.1.ffn_down.weight", "blk.0.attn_q.weight", "token_embd.weight"}) {
    const gguf::TensorInfo* t = (*file)->FindTensor(name);
    ASSERT_NE(t, nullptr);
    const Tensor& kept = std::string(name) == "token_embd.weight"     ? w->embed
                         : std::string(name) == "blk.0.attn_q.weight" ? w->layers[0].wq
                                                                      : w->layers[1].w_down;
    EXPECT_EQ(kept.dtype, DType::kQ8_0) << name;
    EXPECT_EQ(kept.data, t->data) << name;  // a view: the file's own bytes
    EXPECT_EQ(kept.rows(), t->dims[1]) << name;
    EXPECT_EQ(kept.cols(), t->dims[0]) << name;
  }
  EXPECT_EQ(log.str(), "");  // nothing had to be dequantized
}

TEST_F(GgufLoaderTest, MissingUnexpectedAndMisshapenTensors) {
  const ModelWeights w = Dummy(QuantizableConfig(false));
  EXPECT_EQ(LoadError(testing::LlamaGguf(w, GgmlType::kF32, {"blk.1.ffn_up.weight"})),
            Path() + ": missing tensor 'blk.1.ffn_up.weight'");
  testing::GgufBuilder extra = testing::LlamaGguf(w);
  extra.AddTensor("blk.2.attn_q.weight", {32, 32}, GgmlType::kF32, std::vector<uint8_t>(4096));
  EXPECT_EQ(LoadError(extra), Path() + ": unexpected tensor 'blk.2.attn_q.weight' (not part of a " +
                                  w.config.name + " model with this metadata)");
  testing::GgufBuilder freqs = testing::LlamaGguf(w);
  freqs.AddTensor("rope_freqs.weight", {4}, GgmlType::kF32, std::vector<uint8_t>(16));
  EXPECT_THAT(LoadError(freqs), HasSubstr("'rope_freqs.weight' (Llama 3.1-style"));
  testing::GgufBuilder shape = testing::LlamaGguf(w, GgmlType::kF32, {"blk.0.attn_k.weight"});
  shape.AddTensor("blk.0.attn_k.weight", {32, 8}, GgmlType::kF32, std::vector<uint8_t>(1024));
  EXPECT_EQ(LoadError(shape), Path() +
                                  ": tensor 'blk.0.attn_k.weight' has shape [8, 32] (GGUF "
                                  "dims reversed), expected [16, 32] from the metadata");
  testing::GgufBuilder transposed =
      testing::LlamaGguf(w, GgmlType::kF32, {"blk.0.ffn_down.weight"});
  transposed.AddTensor("blk.0.ffn_down.weight", {32, 64}, GgmlType::kF32,
                       std::vector<uint8_t>(8192));
  EXPECT_THAT(LoadError(transposed),
              HasSubstr("'blk.0.ffn_down.weight' has shape [64, 32] (GGUF dims reversed), "
                        "expected [32, 64]"));
  testing::GgufBuilder q4k = testing::LlamaGguf(w, GgmlType::kF32, {"blk.0.ffn_up.weight"});
  q4k.AddTensor("blk.0.ffn_up.weight", {256, 8}, GgmlType::kIQ4_XS, std::vector<uint8_t>(8 * 136));
  EXPECT_THAT(LoadError(q4k), HasSubstr("has shape [8, 256]"));
}

TEST_F(GgufLoaderTest, BadMetadata) {
  const ModelWeights w = Dummy(QuantizableConfig(false));
  testing::GgufBuilder arch = testing::LlamaGguf(w, GgmlType::kF32, {"general.architecture"});
  arch.AddString("general.architecture", "gpt2");
  EXPECT_EQ(LoadError(arch),
            Path() + ": architecture 'gpt2' is not supported (llama, mistral, qwen2)");
  EXPECT_EQ(LoadError(testing::LlamaGguf(w, GgmlType::kF32, {"llama.embedding_length"})),
            Path() + ": metadata key 'llama.embedding_length' not found");
  testing::GgufBuilder layers = testing::LlamaGguf(w, GgmlType::kF32, {"llama.block_count"});
  layers.AddUint64("llama.block_count", 1ull << 40);
  EXPECT_EQ(LoadError(layers),
            Path() + ": metadata key 'llama.block_count' is 1099511627776, expected 1..2147483647");
  testing::GgufBuilder many = testing::LlamaGguf(w, GgmlType::kF32, {"llama.block_count"});
  many.AddUint32("llama.block_count", 1000000);
  EXPECT_THAT(LoadError(many), HasSubstr("llama.block_count 1000000 needs more tensors"));
  testing::GgufBuilder heads =
      testing::LlamaGguf(w, GgmlType::kF32, {"llama.attention.head_count"});
  heads.AddString("llama.attention.head_count", "four");
  EXPECT_EQ(LoadError(heads), Path() +
                                  ": metadata key 'llama.attention.head_count' is a string, "
                                  "expected an integer");
  testing::GgufBuilder kv =
      testing::LlamaGguf(w, GgmlType::kF32, {"llama.attention.head_count_kv"});
  kv.AddUint32("llama.attention.head_count_kv", 3);
  EXPECT_THAT(LoadError(kv), HasSubstr(Path() + ": "));
  testing::GgufBuilder scaling = testing::LlamaGguf(w);
  scaling.AddString("llama.rope.scaling.type", "yarn");
  EXPECT_EQ(LoadError(scaling), Path() + ": llama.rope.scaling.type 'yarn' is not supported");
}

TEST_F(GgufLoaderTest, TinyRandomLlama) {
  std::optional<std::filesystem::path> models = testing::SharedModelsDir();
  const std::filesystem::path path =
      models ? *models / "tiny-random-gguf" / "llama-2-tiny-random.gguf" : "";
  if (!models || !std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  absl::StatusOr<ModelWeights> w = LoadGgufModel(path.string());
  ASSERT_TRUE(w.ok()) << w.status();
  const ModelConfig& c = w->config;
  EXPECT_EQ(c.name, "LLaMA v2");
  EXPECT_EQ(c.n_layers, 1);
  EXPECT_EQ(c.dim, 8);
  EXPECT_EQ(c.hidden_dim, 32);
  EXPECT_EQ(c.n_heads, 2);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 4);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.max_seq_len, 4096);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int>{2});
  EXPECT_EQ(w->embed.dtype, DType::kF16);  // F16 in the file: a view
  EXPECT_EQ(w->final_norm.dtype, DType::kF32);
  EXPECT_TRUE(CheckWeightShapes(*w).ok());
}

TEST_F(GgufLoaderTest, SmolLM2) {
  std::optional<std::string> path = testing::DefaultModelGguf();
  if (!path) GTEST_SKIP() << "SmolLM2 GGUF not fetched (scripts/fetch_default_model.sh)";
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ModelWeights> w = LoadGgufModel(*path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(w.ok()) << w.status();
  std::cout << "SmolLM2-135M-Instruct Q4_1 GGUF loaded (dequantized to f32) in " << seconds
            << " s\n";
  const ModelConfig& c = w->config;
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.dim, 576);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.hidden_dim, 1536);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.max_seq_len, 8192);
  EXPECT_EQ(c.rope_theta, 100000.0f);
  EXPECT_EQ(c.rms_norm_eps, 1e-5f);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.rope_style, RopeStyle::kInterleaved);
  EXPECT_FALSE(c.rope_scaling.active());
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int>{2});
  EXPECT_EQ(w->embed.dtype, DType::kF32);
  EXPECT_EQ(w->lm_head.data, w->embed.data);
  EXPECT_TRUE(CheckWeightShapes(*w).ok());
}

}  // namespace
}  // namespace gqa
