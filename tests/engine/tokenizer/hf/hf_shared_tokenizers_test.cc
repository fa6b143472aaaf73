// The real tokenizers in ../shared/models/tokenizers: loading from a model
// directory, special tokens from tokenizer_config.json / generation_config.json,
// and a few ids checked against HF tokenizers 0.23.3 (the full comparison is
// compare_with_hf.py). Skips when the folder is absent.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "gtest/gtest.h"
#include "tests/engine/tokenizer/hf/hf_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using testing::SharedHfTokenizer;
using Ids = std::vector<int>;

#define SKIP_WITHOUT(tok) \
  if ((tok) == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent"

TEST(HfSharedTokenizersTest, Llama3) {
  const HfTokenizer* tok = SharedHfTokenizer("llama3");
  SKIP_WITHOUT(tok);
  EXPECT_TRUE(tok->byte_level_input());
  EXPECT_EQ(tok->vocab_size(), 128256);
  EXPECT_EQ(tok->bos_id(), 128000);
  EXPECT_EQ(tok->eos_ids(), (Ids{128001}));
  // This tokenizer.json's post-processor adds nothing (no TemplateProcessing).
  EXPECT_EQ(tok->Encode("Hello world", true), (Ids{9906, 1917}));
  EXPECT_EQ(tok->Encode("Héllo, 世界! 👋", false), (Ids{39, 19010, 385, 11, 127365, 0, 62904, 233}));
  EXPECT_EQ(tok->Decode(Ids{128000, 9906, 1917, 128009}, false),
            "<|begin_of_text|>Hello world<|eot_id|>");
  EXPECT_EQ(tok->Decode(Ids{128000, 9906, 1917, 128009}, true), "Hello world");
  EXPECT_EQ(tok->TokenString(1917), "Ġworld");
}

TEST(HfSharedTokenizersTest, Qwen3) {
  const HfTokenizer* tok = SharedHfTokenizer("qwen3");
  SKIP_WITHOUT(tok);
  EXPECT_TRUE(tok->byte_level_input());
  EXPECT_EQ(tok->vocab_size(), 151669);
  EXPECT_EQ(tok->bos_id(), -1);  // bos_token: null
  EXPECT_EQ(tok->eos_ids(), (Ids{151645}));
  EXPECT_EQ(tok->Encode("Hello world", true), (Ids{9707, 1879}));
  EXPECT_EQ(tok->Encode("Héllo, 世界! 👋", true),
            (Ids{39, 18503, 385, 11, 220, 99489, 0, 61804, 233}));
  // NFC: a decomposed é encodes as the composed one.
  EXPECT_EQ(tok->Encode("He\u0301llo", false), tok->Encode("H\u00E9llo", false));
}

TEST(HfSharedTokenizersTest, Gemma3) {
  const HfTokenizer* tok = SharedHfTokenizer("gemma3");
  SKIP_WITHOUT(tok);
  EXPECT_FALSE(tok->byte_level_input());
  EXPECT_EQ(tok->vocab_size(), 262145);
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->eos_ids(), (Ids{106}));  // <end_of_turn>
  EXPECT_EQ(tok->Encode("Hello world", true), (Ids{2, 9259, 1902}));
  EXPECT_EQ(tok->Encode("Héllo, 世界! 👋", false),
            (Ids{236814, 7869, 844, 236764, 84679, 236888, 155818}));
  EXPECT_EQ(tok->Decode(Ids{2, 9259, 1902, 106}, true), "Hello world");
}

TEST(HfSharedTokenizersTest, Spm32k) {
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  SKIP_WITHOUT(tok);
  EXPECT_FALSE(tok->byte_level_input());
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_ids(), (Ids{2}));
  EXPECT_EQ(tok->Encode("Hello world", true), (Ids{1, 22557, 1526}));
  // 👋 is not in the vocabulary: four byte-fallback tokens.
  EXPECT_EQ(tok->Encode("Héllo, 世界! 👋", false), (Ids{382, 28797, 584, 28709, 28725, 28705, 30050,
                                                       29822, 28808, 28705, 243, 162, 148, 142}));
  EXPECT_EQ(tok->Decode(Ids{1, 22557, 1526, 28705, 243, 162, 148, 142, 2}, true), "Hello world 👋");
}

TEST(HfSharedTokenizersTest, EncodeAndDecodeFromManyThreads) {
  for (const char* name : {"llama3", "gemma3"}) {
    const HfTokenizer* tok = SharedHfTokenizer(name);
    SKIP_WITHOUT(tok);
    const std::vector<std::string> texts = {"Hello world, again and again.", "東京 👋 e\u0301",
                                            "<|eot_id|><bos> x  y\n\n z", std::string(3000, 'a')};
    std::vector<Ids> expected;
    for (const std::string& t : texts) expected.push_back(tok->Encode(t));
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int round = 0; round < 20; ++round) {
          for (std::size_t i = 0; i < texts.size(); ++i) {
            const Ids ids = tok->Encode(texts[i]);
            if (ids != expected[i] || tok->Decode(ids).empty()) ++mismatches;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(mismatches.load(), 0) << name;
  }
}

TEST(HfSharedTokenizersTest, LoadFromModelDirectoryWithGenerationConfig) {
  const auto models = testing::SharedModelsDir();
  if (!models) GTEST_SKIP() << "../shared/models absent";
  const auto source = std::filesystem::absolute(*models / "tokenizers" / "llama3");
  // A model directory as HF lays it out: the tokenizer files and a
  // generation_config.json whose eos_token_id lists the turn-end tokens.
  testing::ScratchDir dir;
  std::filesystem::create_symlink(source / "tokenizer.json", dir.path() / "tokenizer.json");
  std::filesystem::create_symlink(source / "tokenizer_config.json",
                                  dir.path() / "tokenizer_config.json");
  std::ofstream(dir.File("generation_config.json"))
      << R"({"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]})";
  auto tok = LoadHfTokenizer(dir.path().string());
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->bos_id(), 128000);
  EXPECT_EQ((*tok)->eos_ids(), (Ids{128001, 128008, 128009}));
  auto from_file = LoadHfTokenizerFile(dir.File("tokenizer.json"));
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ((*from_file)->eos_ids(), (Ids{128001, 128008, 128009}));
  auto file_as_dir = LoadHfTokenizer(dir.File("tokenizer.json"));  // a file path works too
  ASSERT_TRUE(file_as_dir.ok()) << file_as_dir.status();
  EXPECT_EQ((*file_as_dir)->bos_id(), 128000);
  // Only tokenizer.json: no special tokens known.
  HfTokenizerFiles files;
  files.tokenizer_json = dir.File("tokenizer.json");
  auto bare = HfTokenizer::Load(files);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ((*bare)->bos_id(), -1);
  EXPECT_TRUE((*bare)->eos_ids().empty());
}

TEST(HfSharedTokenizersTest, BadGenerationConfigNamesTheFile) {
  const auto models = testing::SharedModelsDir();
  if (!models) GTEST_SKIP() << "../shared/models absent";
  testing::ScratchDir dir;
  std::filesystem::create_symlink(
      std::filesystem::absolute(*models / "tokenizers" / "spm32k" / "tokenizer.json"),
      dir.path() / "tokenizer.json");
  std::ofstream(dir.File("generation_config.json")) << R"({"eos_token_id": [2, "x"]})";
  const auto tok = LoadHfTokenizer(dir.path().string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find(dir.File("generation_config.json")), std::string::npos);
  EXPECT_NE(tok.status().message().find("eos_token_id"), std::string::npos);
}

}  // namespace
}  // namespace gqa
