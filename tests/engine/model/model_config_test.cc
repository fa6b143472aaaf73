#include "engine/model/model_config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// meta-llama/Llama-3.2-1B config.json, as published.
constexpr char kLlama32Config[] = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

ModelConfig MustParse(const std::string& json) {
  absl::StatusOr<ModelConfig> c = ParseHfConfig(json, "test/config.json");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.value_or(ModelConfig{});
}

std::string ParseError(const std::string& json) {
  absl::StatusOr<ModelConfig> c = ParseHfConfig(json, "test/config.json");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : std::string(c.status().message());
}

void ExpectSameConfig(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.hidden_dim, b.hidden_dim);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.max_seq_len, b.max_seq_len);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_scaling.factor, b.rope_scaling.factor);
  EXPECT_EQ(a.rope_scaling.low_freq_factor, b.rope_scaling.low_freq_factor);
  EXPECT_EQ(a.rope_scaling.high_freq_factor, b.rope_scaling.high_freq_factor);
  EXPECT_EQ(a.rope_scaling.original_max_position_embeddings,
            b.rope_scaling.original_max_position_embeddings);
  EXPECT_EQ(a.rope_style, b.rope_style);
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.attention_bias, b.attention_bias);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.bos_token_id, b.bos_token_id);
  EXPECT_EQ(a.eos_token_ids, b.eos_token_ids);
}

TEST(ParseHfConfigTest, Llama32WithLlama3RopeScaling) {
  const ModelConfig c = MustParse(kLlama32Config);
  EXPECT_EQ(c.name, "llama");
  EXPECT_EQ(c.dim, 2048);
  EXPECT_EQ(c.hidden_dim, 8192);
  EXPECT_EQ(c.n_layers, 16);
  EXPECT_EQ(c.n_heads, 32);
  EXPECT_EQ(c.n_kv_heads, 8);
  EXPECT_EQ(c.group_size(), 4);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.max_seq_len, 131072);
  EXPECT_EQ(c.rms_norm_eps, 1e-5f);
  EXPECT_EQ(c.rope_theta, 500000.0f);
  EXPECT_TRUE(c.rope_scaling.active());
  EXPECT_EQ(c.rope_scaling.factor, 32.0f);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0f);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0f);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.rope_style, RopeStyle::kHalves);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.dtype, DType::kBF16);
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(128001));
  EXPECT_EQ(c.NumParameters(), 1235814400u);  // the published 1.24B
  EXPECT_EQ(c.KvBytesPerToken(DType::kBF16), 2u * 16 * 512 * 2);
}

TEST(ParseHfConfigTest, PresetMatchesPublishedConfig) {
  ModelConfig preset = *PresetConfig("llama-3.2-1b");
  preset.eos_token_ids = {128001};  // the preset has the Instruct model's list
  ExpectSameConfig(MustParse(kLlama32Config), preset);
}

TEST(ParseHfConfigTest, EosListAndLegacyRopeScalingKey) {
  const ModelConfig c = MustParse(R"({"hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 300,
      "eos_token_id": [128, 129, 130], "bos_token_id": 5,
      "rope_scaling": {"type": "llama3", "factor": 8, "low_freq_factor": 1,
                       "high_freq_factor": 4, "original_max_position_embeddings": 64}})");
  EXPECT_THAT(c.eos_token_ids, ElementsAre(128, 129, 130));
  EXPECT_EQ(c.bos_token_id, 5);
  EXPECT_EQ(c.rope_scaling.factor, 8.0f);
}

// transformers 5 writes rope_theta and the scaling keys into "rope_parameters".
TEST(ParseHfConfigTest, Transformers5RopeParameters) {
  std::string v5 = kLlama32Config;
  const size_t from = v5.find(R"("rope_scaling")");
  const size_t to = v5.find(R"("tie_word_embeddings")");
  v5.replace(from, to - from, R"("rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0,
      "factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
      "original_max_position_embeddings": 8192}, )");
  ExpectSameConfig(MustParse(v5), MustParse(kLlama32Config));

  const ModelConfig plain = MustParse(R"({"hidden_size": 64, "intermediate_size": 96,
      "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100,
      "max_position_embeddings": 128,
      "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}})");
  EXPECT_EQ(plain.rope_theta, 1e6f);
  EXPECT_FALSE(plain.rope_scaling.active());
}

TEST(ParseHfConfigTest, Defaults) {
  const ModelConfig c = MustParse(R"({"hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100})");
  EXPECT_EQ(c.name, "llama");
  EXPECT_EQ(c.n_kv_heads, 4);  // MHA when num_key_value_heads is absent
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.max_seq_len, 2048);
  EXPECT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.rope_theta, 10000.0f);
  EXPECT_FALSE(c.rope_scaling.active());
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.dtype, DType::kF32);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(2));
}

TEST(ParseHfConfigTest, Qwen2HasBiasesAndNewDtypeKey) {
  const ModelConfig c = MustParse(R"({"model_type": "qwen2", "hidden_size": 64,
      "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
      "num_key_value_heads": 2, "vocab_size": 100, "dtype": "float16",
      "use_sliding_window": false, "sliding_window": 32, "max_position_embeddings": 128,
      "rope_scaling": null, "eos_token_id": 7})");
  EXPECT_EQ(c.name, "qwen2");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_EQ(c.dtype, DType::kF16);
  EXPECT_EQ(c.max_seq_len, 128);  // sliding window not in use
}

TEST(ParseHfConfigTest, MistralSlidingWindowCapsContext) {
  const ModelConfig c = MustParse(R"({"model_type": "mistral", "hidden_size": 64,
      "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
      "num_key_value_heads": 1, "vocab_size": 100, "sliding_window": 32,
      "max_position_embeddings": 128})");
  EXPECT_EQ(c.max_seq_len, 32);
  EXPECT_EQ(c.group_size(), 4);
}

TEST(ParseHfConfigTest, ErrorsNameFileAndField) {
  const std::string base = R"("intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4, "vocab_size": 100)";
  std::string e = ParseError("{" + base + "}");
  EXPECT_THAT(e, HasSubstr("test/config.json"));
  EXPECT_THAT(e, HasSubstr("'hidden_size' is missing"));
  EXPECT_THAT(ParseError(R"({"hidden_size": "64", )" + base + "}"),
              HasSubstr("'hidden_size' must be an integer"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64.5, )" + base + "}"), HasSubstr("hidden_size"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "num_key_value_heads": 3, )" + base + "}"),
              HasSubstr("n_kv_heads (3) must divide n_heads (4)"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 0, )" + base + "}"), HasSubstr("dim"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "head_dim": 15, )" + base + "}"),
              HasSubstr("head_dim"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "torch_dtype": "int8", )" + base + "}"),
              HasSubstr("'torch_dtype'"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "eos_token_id": [1, "x"], )" + base + "}"),
              HasSubstr("eos_token_id"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "eos_token_id": 100, )" + base + "}"),
              HasSubstr("eos_token_id"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "model_type": "gemma", )" + base + "}"),
              HasSubstr("'gemma'"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "hidden_act": "gelu", )" + base + "}"),
              HasSubstr("hidden_act"));
  EXPECT_THAT(ParseError(R"({"hidden_size": 64, "head_dim": 99999999999, )" + base + "}"),
              HasSubstr("'head_dim' is too large"));
  EXPECT_THAT(ParseError("not json"), HasSubstr("test/config.json: not a JSON object"));
  EXPECT_THAT(ParseError("[1, 2]"), HasSubstr("not a JSON object"));
}

TEST(ParseHfConfigTest, UnsupportedRopeScalingIsRejected) {
  const std::string base = R"("hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100)";
  for (const char* type : {"linear", "dynamic", "yarn", "longrope"}) {
    const std::string e = ParseError("{" + base + R"(, "rope_scaling": {"rope_type": ")" + type +
                                     R"(", "factor": 2.0}})");
    EXPECT_THAT(e, HasSubstr(std::string("'") + type + "'"));
    EXPECT_THAT(e, HasSubstr("not supported"));
  }
  EXPECT_THAT(ParseError("{" + base + R"(, "rope_scaling": {"rope_type": "llama3",
      "factor": 8.0}})"),
              HasSubstr("low_freq_factor"));
  const ModelConfig c = MustParse("{" + base + R"(, "rope_scaling": {"rope_type": "default"}})");
  EXPECT_FALSE(c.rope_scaling.active());
}

TEST(ToHfConfigJsonTest, RoundTripsEveryPresetAndAQwen2Config) {
  std::vector<ModelConfig> configs;
  for (const std::string& name : PresetNames()) configs.push_back(*PresetConfig(name));
  ModelConfig qwen = configs[0];
  qwen.name = "qwen2";
  qwen.attention_bias = true;
  qwen.dtype = DType::kF16;
  qwen.rms_norm_eps = 1e-6f;
  qwen.eos_token_ids = {3, 4};
  configs.push_back(qwen);
  for (const ModelConfig& c : configs) {
    SCOPED_TRACE(c.name);
    const ModelConfig back = MustParse(ToHfConfigJson(c));
    ExpectSameConfig(back, c);
  }
  EXPECT_EQ(MustParse(ToHfConfigJson(qwen)).name, "qwen2");
  EXPECT_THAT(ToHfConfigJson(configs[0]), HasSubstr("\"rms_norm_eps\": 1e-05"));
}

TEST(PresetConfigTest, ShapesAndParameterCounts) {
  for (const std::string& name : PresetNames()) {
    absl::StatusOr<ModelConfig> c = PresetConfig(name);
    ASSERT_TRUE(c.ok()) << name;
    EXPECT_TRUE(c->Validate().ok()) << name << ": " << c->Validate();
    EXPECT_EQ(c->name, name);
  }
  const ModelConfig demo = *PresetConfig("demo");
  EXPECT_EQ(demo.vocab_size, 259);
  EXPECT_EQ(demo.bos_token_id, 1);
  EXPECT_THAT(demo.eos_token_ids, ElementsAre(2));
  EXPECT_EQ(demo.group_size(), 4);
  const ModelConfig tiny = *PresetConfig("tiny");
  EXPECT_EQ(tiny.head_dim, 8);
  EXPECT_EQ(tiny.kv_dim(), 16);
  const ModelConfig l8b = *PresetConfig("llama-3-8b");
  EXPECT_EQ(l8b.NumParameters(), 8030261248u);            // the published 8.03B
  EXPECT_EQ(l8b.KvBytesPerToken(DType::kBF16), 131072u);  // 128 KiB per token
  EXPECT_EQ(PresetConfig("stories15m")->NumParameters(), 15191712u);
  absl::StatusOr<ModelConfig> bad = PresetConfig("gpt-5");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'gpt-5'"));
  EXPECT_THAT(bad.status().message(), HasSubstr("llama-3.2-1b"));
}

TEST(ValidateTest, NamesTheBadField) {
  const ModelConfig good = *PresetConfig("tiny");
  ASSERT_TRUE(good.Validate().ok());
  struct Case {
    void (*mutate)(ModelConfig&);
    const char* field;
  };
  const Case cases[] = {
      {[](ModelConfig& c) { c.dim = 0; }, "dim"},
      {[](ModelConfig& c) { c.hidden_dim = -1; }, "hidden_dim"},
      {[](ModelConfig& c) { c.n_layers = 0; }, "n_layers"},
      {[](ModelConfig& c) { c.n_heads = 0; }, "n_heads"},
      {[](ModelConfig& c) { c.n_kv_heads = 0; }, "n_kv_heads"},
      {[](ModelConfig& c) { c.n_kv_heads = 3; }, "n_kv_heads"},
      {[](ModelConfig& c) { c.head_dim = 7; }, "head_dim"},
      {[](ModelConfig& c) { c.vocab_size = 0; }, "vocab_size"},
      {[](ModelConfig& c) { c.max_seq_len = 0; }, "max_seq_len"},
      {[](ModelConfig& c) { c.rms_norm_eps = 0; }, "rms_norm_eps"},
      {[](ModelConfig& c) { c.rope_theta = -1; }, "rope_theta"},
      {[](ModelConfig& c) { c.rope_scaling.factor = 8, c.rope_scaling.high_freq_factor = 1; },
       "high_freq_factor"},
      {[](ModelConfig& c) { c.bos_token_id = 512; }, "bos_token_id"},
      {[](ModelConfig& c) { c.eos_token_ids = {-1}; }, "eos_token_id"},
      {[](ModelConfig& c) { c.n_heads = 1 << 20, c.head_dim = 1 << 12; }, "too large"},
  };
  for (const Case& k : cases) {
    ModelConfig c = good;
    k.mutate(c);
    const absl::Status s = c.Validate();
    EXPECT_FALSE(s.ok()) << k.field;
    EXPECT_THAT(s.message(), HasSubstr(k.field));
  }
}

}  // namespace
}  // namespace gqa
