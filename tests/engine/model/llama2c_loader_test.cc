#include "engine/model/llama2c_loader.h"

#include <cstring>
#include <string>
#include <vector>

#include "engine/model/dummy_weights.h"
#include "engine/model/hf_loader.h"
#include "engine/model/host_tensor.h"
#include "engine/model/rope_permute.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

std::string Header(std::vector<int32_t> h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size() * 4);
}

// A file whose float number i (after the header) holds the value i.
std::string Numbered(const std::vector<int32_t>& header, int num_floats) {
  std::vector<float> v(num_floats);
  for (int i = 0; i < num_floats; ++i) v[i] = static_cast<float>(i);
  return Header(header) + std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

class Llama2cTest : public ::testing::Test {
 protected:
  std::string Error(const std::string& bytes) {
    testing::WriteFile(path_, bytes);
    absl::StatusOr<ModelWeights> w = LoadLlama2c(path_);
    EXPECT_FALSE(w.ok());
    if (w.ok()) return "";
    EXPECT_THAT(w.status().message(), HasSubstr(path_));
    return std::string(w.status().message());
  }

  testing::ScratchDir dir_;
  std::string path_ = dir_.File("model.bin");
};

// Where each array starts, counted by hand from the README's layout for
// dim 8, hidden 12, 2 layers, 2 heads, 1 KV head (kv_dim 4), vocab 10, seq 4.
TEST_F(Llama2cTest, LayoutMatchesTheFormat) {
  for (bool shared : {true, false}) {
    SCOPED_TRACE(shared ? "shared classifier" : "own classifier");
    testing::WriteFile(path_,
                       Numbered({8, 12, 2, 2, 1, shared ? 10 : -10, 4}, shared ? 1096 : 1176));
    absl::StatusOr<ModelWeights> w = LoadLlama2c(path_);
    ASSERT_TRUE(w.ok()) << w.status();
    auto starts_at = [](const Tensor& t, float first, const char* what) {
      EXPECT_EQ(t.as<float>()[0], first) << what;
      EXPECT_EQ(t.as<float>()[t.numel() - 1], first + t.numel() - 1) << what;
    };
    starts_at(w->embed, 0, "embed");
    for (int i = 0; i < 2; ++i) {
      const LayerWeights& l = w->layers[i];
      starts_at(l.attn_norm, 80 + i * 8, "rms_att");
      starts_at(l.wq, 96 + i * 64, "wq");
      starts_at(l.wk, 224 + i * 32, "wk");
      starts_at(l.wv, 288 + i * 32, "wv");
      starts_at(l.wo, 352 + i * 64, "wo");
      starts_at(l.ffn_norm, 480 + i * 8, "rms_ffn");
      starts_at(l.w_gate, 496 + i * 96, "w1");
      starts_at(l.w_down, 688 + i * 96, "w2");
      starts_at(l.w_up, 880 + i * 96, "w3");
      EXPECT_EQ(l.wk.ShapeString(), "[4, 8] f32");
      EXPECT_EQ(l.w_down.ShapeString(), "[8, 12] f32");
      EXPECT_TRUE(l.bq.empty());
    }
    starts_at(w->final_norm, 1072, "rms_final");
    // 1080..1095: the two RoPE tables, skipped.
    if (shared) {
      EXPECT_EQ(w->lm_head.data, w->embed.data);
    } else {
      starts_at(w->lm_head, 1096, "wcls");
    }
    const ModelConfig& c = w->config;
    EXPECT_EQ(c.name, "llama2c");
    EXPECT_EQ(c.head_dim, 4);
    EXPECT_EQ(c.vocab_size, 10);
    EXPECT_EQ(c.max_seq_len, 4);
    EXPECT_EQ(c.tie_word_embeddings, shared);
    EXPECT_EQ(c.rope_style, RopeStyle::kInterleaved);
    EXPECT_EQ(c.rms_norm_eps, 1e-5f);
    EXPECT_EQ(c.rope_theta, 10000.0f);
    EXPECT_EQ(c.bos_token_id, 1);
    EXPECT_EQ(c.eos_token_ids, std::vector<int>{2});
    EXPECT_EQ(c.dtype, DType::kF32);
  }
}

// Llama2cFromBytes (the fuzz target's entry point): the same checks and
// views as LoadLlama2c, into the caller's bytes, errors naming `name`.
TEST_F(Llama2cTest, FromBytesMatchesLoad) {
  const std::string bytes = Numbered({8, 12, 2, 2, 1, 10, 4}, 1096);
  absl::StatusOr<ModelWeights> w =
      Llama2cFromBytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "mem");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->config.vocab_size, 10);
  EXPECT_TRUE(w->storage.empty());
  EXPECT_EQ(static_cast<const char*>(w->embed.data), bytes.data() + 28);
  EXPECT_EQ(w->final_norm.as<float>()[0], 1096.0f - 8 - 16);  // 16: the two RoPE tables
  absl::StatusOr<ModelWeights> short_file =
      Llama2cFromBytes({reinterpret_cast<const uint8_t*>(bytes.data()), 12}, "mem");
  EXPECT_EQ(short_file.status().message(),
            "mem: 12 bytes, too short for a llama2.c header (28 bytes)");
}

TEST_F(Llama2cTest, SizeMustMatchExactly) {
  const std::vector<int32_t> h = {8, 12, 2, 2, 1, 10, 4};
  std::string e = Error(Numbered(h, 1095));
  EXPECT_THAT(e, HasSubstr("expected 4412 bytes"));  // 28 + 1096 * 4
  EXPECT_THAT(e, HasSubstr("file has 4408 bytes (truncated)"));
  e = Error(Numbered(h, 1096) + "x");
  EXPECT_THAT(e, HasSubstr("file has 4413 bytes (trailing data)"));
  // Negative vocab: the classifier is required.
  EXPECT_THAT(Error(Numbered({8, 12, 2, 2, 1, -10, 4}, 1096)), HasSubstr("expected 4732 bytes"));
  EXPECT_THAT(Error(""), HasSubstr("too short for a llama2.c header"));
  EXPECT_THAT(Error(Header({8, 12, 2})), HasSubstr("12 bytes, too short"));
}

TEST_F(Llama2cTest, NonsenseHeadersAreRejectedBeforeSizing) {
  struct Case {
    std::vector<int32_t> header;
    const char* message;
  };
  const int32_t big = 1 << 30;
  const Case cases[] = {
      {{8, 12, 2, 0, 1, 10, 4}, "n_heads = 0 must be positive"},
      {{-8, 12, 2, 2, 1, 10, 4}, "dim = -8 must be positive"},
      {{8, -12, 2, 2, 1, 10, 4}, "hidden_dim = -12"},
      {{8, 12, 0, 2, 1, 10, 4}, "n_layers = 0"},
      {{8, 12, 2, 2, 0, 10, 4}, "n_kv_heads = 0"},
      {{8, 12, 2, 2, 1, 10, -4}, "seq_len = -4"},
      {{8, 12, 2, 2, 1, 0, 4}, "vocab_size = 0"},
      {{8, 12, 2, 2, 1, INT32_MIN, 4}, "vocab_size"},
      {{8, 12, 2, 3, 1, 10, 4}, "n_heads = 3 does not divide dim = 8"},
      {{8, 12, 2, 2, 3, 10, 4}, "n_kv_heads = 3 does not divide n_heads = 2"},
      {{6, 12, 2, 2, 1, 10, 4}, "head_dim"},     // head_dim 3 is odd
      {{8, 12, 2, 2, 1, 1, 4}, "bos_token_id"},  // BOS 1 outside a 1-token vocab
      {{0x616b3432, 1, 0, 0, 0, 0, 0}, "versioned llama2.c export"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(Error(Header(c.header) + std::string(64, '\0')), HasSubstr(c.message));
  }
  // Huge but positive dims: the size is computed without overflow and mismatches.
  EXPECT_THAT(Error(Header({big, big, big, 2, 2, -big, big})), HasSubstr("bytes"));
  EXPECT_THAT(Error(Header({INT32_MAX - 1, INT32_MAX, INT32_MAX, 2, 1, -INT32_MAX, INT32_MAX})),
              HasSubstr(path_));
}

TEST_F(Llama2cTest, SaveLoadRoundTripIsBitExact) {
  for (bool tied : {true, false}) {
    ModelConfig c = testing::TinyConfig(RopeStyle::kInterleaved);
    c.tie_word_embeddings = tied;
    const ModelWeights w = *MakeDummyWeights(c, DType::kF32, 3);
    ASSERT_TRUE(SaveLlama2c(w, path_).ok());
    absl::StatusOr<ModelWeights> back = LoadLlama2c(path_);
    ASSERT_TRUE(back.ok()) << back.status();
    testing::ExpectSameWeights(w, *back);
    EXPECT_EQ(back->config.tie_word_embeddings, tied);
  }
}

// HF (halves) -> llama2.c (interleaved) -> HF: the rows are permuted on the way
// out and back, giving the original bits.
TEST_F(Llama2cTest, CrossFormatRoundTripPermutesRope) {
  const ModelWeights hf =
      *MakeDummyWeights(testing::TinyConfig(RopeStyle::kHalves), DType::kBF16, 5);
  ASSERT_TRUE(SaveLlama2c(hf, path_).ok());
  absl::StatusOr<ModelWeights> l2c = LoadLlama2c(path_);
  ASSERT_TRUE(l2c.ok()) << l2c.status();
  // Permuted rows: llama2.c row 2i+1 of head 0 is HF row head_dim/2 + i.
  const std::vector<float> hf_k = TensorToF32(hf.layers[0].wk);
  EXPECT_EQ(l2c->layers[0].wk.as<float>()[1 * 16 + 3], hf_k[2 * 16 + 3]);
  ASSERT_TRUE(SaveHfModel(*l2c, dir_.File("hf"), DType::kBF16).ok());
  absl::StatusOr<ModelWeights> back = LoadHfModel(dir_.File("hf"));
  ASSERT_TRUE(back.ok()) << back.status();
  testing::ExpectSameWeights(hf, *back);
}

TEST_F(Llama2cTest, SaveRejectsWhatTheFormatCannotHold) {
  ModelConfig c = testing::TinyConfig();
  c.attention_bias = true;
  EXPECT_THAT(SaveLlama2c(*MakeDummyWeights(c, DType::kF32, 1), path_).message(),
              HasSubstr("attention biases"));
  c = testing::TinyConfig();
  c.rope_theta = 500000;
  EXPECT_THAT(SaveLlama2c(*MakeDummyWeights(c, DType::kF32, 1), path_).message(),
              HasSubstr("RoPE"));
  c = testing::TinyConfig();
  c.rms_norm_eps = 1e-6f;
  EXPECT_THAT(SaveLlama2c(*MakeDummyWeights(c, DType::kF32, 1), path_).message(),
              HasSubstr("rms_norm_eps"));
  c = testing::TinyConfig();
  c.head_dim = 8;
  EXPECT_THAT(SaveLlama2c(*MakeDummyWeights(c, DType::kF32, 1), path_).message(),
              HasSubstr("head_dim"));
}

}  // namespace
}  // namespace gqa
