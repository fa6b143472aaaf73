// gqa-convert from a GGUF: the HF directory it writes (weights + tokenizer
// files from the GGUF vocabulary) loads as the server loads a model, and its
// tokenizer encodes and decodes exactly as the GGUF's own.
#include "engine/cli/convert_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/model/gqa_convert.h"
#include "engine/model/hf_loader.h"
#include "engine/model/model_loader.h"
#include "engine/runner/model_setup.h"
#include "engine/tokenizer/gguf/gguf_tokenizer.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

const char* const kTexts[] = {
    "Hello world! The GNU General Public License is a free, copyleft license.",
    "  leading spaces, tabs\tand\nnewlines; numbers 12345 and 3.14159",
    "<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "Unicode: héllo wörld — 你好, émoji 🙂"};

void ExpectSameTokenizer(const std::string& gguf, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> want = LoadGgufTokenizer(gguf);
  ASSERT_TRUE(want.ok()) << want.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> got = LoadHfTokenizer(dir);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)->vocab_size(), (*want)->vocab_size());
  EXPECT_EQ((*got)->bos_id(), (*want)->bos_id());
  EXPECT_EQ((*got)->eos_ids(), (*want)->eos_ids());
  for (const char* text : kTexts) {
    for (bool special : {true, false}) {
      const std::vector<int> ids = (*want)->Encode(text, special);
      EXPECT_EQ((*got)->Encode(text, special), ids) << text;
      EXPECT_EQ((*got)->Decode(ids, false), (*want)->Decode(ids, false)) << text;
    }
  }
}

// Converts `gguf` to an HF directory with `kv_heads` KV heads, as gqa-convert does.
void Convert(const std::string& gguf, const std::string& dir, int kv_heads) {
  ModelSource source;
  source.path = gguf;
  absl::StatusOr<ModelWeights> in = LoadModel(source);
  ASSERT_TRUE(in.ok()) << in.status();
  absl::StatusOr<ModelWeights> out = ConvertKvHeads(*in, kv_heads);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(SaveHfModel(*out, dir, DType::kF32).ok());
  ASSERT_TRUE(WriteHfTokenizerFromGguf(gguf, dir).ok());
}

TEST(ConvertTokenizerTest, LlamaSentencePieceGguf) {
  std::optional<std::filesystem::path> shared = testing::SharedModelsDir();
  if (!shared) GTEST_SKIP() << "no ../shared/models";
  const std::string gguf = (*shared / "tiny-random-gguf" / "llama-2-tiny-random.gguf").string();
  testing::ScratchDir dir;
  ModelSource source;
  source.path = gguf;
  absl::StatusOr<ModelWeights> in = LoadModel(source);
  ASSERT_TRUE(in.ok()) << in.status();
  Convert(gguf, dir.File("hf"), 1);
  ExpectSameTokenizer(gguf, dir.File("hf"));
  // As gqa-server loads a model: weights, tokenizer and config together.
  std::ostringstream log;
  ModelSetupOptions setup;
  setup.model = dir.File("hf");
  absl::StatusOr<LoadedModel> loaded = SetUpModel(setup, log);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE(loaded->tokenizer, nullptr);
  EXPECT_EQ(loaded->weights.config.n_kv_heads, 1);
  EXPECT_EQ(loaded->weights.config.n_heads, in->config.n_heads);
}

TEST(ConvertTokenizerTest, SmolLM2ByteLevelBpeGgufWithChatTemplate) {
  std::optional<std::string> gguf = testing::DefaultModelGguf();
  if (!gguf) GTEST_SKIP() << "no SmolLM2 GGUF (scripts/fetch_default_model.sh)";
  testing::ScratchDir dir;
  Convert(*gguf, dir.File("hf"), 1);
  ExpectSameTokenizer(*gguf, dir.File("hf"));
  std::ostringstream log;
  ModelSetupOptions setup;
  setup.model = dir.File("hf");
  absl::StatusOr<LoadedModel> loaded = SetUpModel(setup, log);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE(loaded->chat_template, nullptr);  // the GGUF's ChatML template came along
  EXPECT_EQ(loaded->weights.config.n_kv_heads, 1);
}

}  // namespace
}  // namespace gqa
