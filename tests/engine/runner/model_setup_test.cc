// SetUpModel: which tokenizer and chat template a model gets, and the end of
// generation set it ends up with, for the demo model, dummy weights beside an
// HF tokenizer, and --chat-template overrides.
#include "engine/runner/model_setup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/model/model_config.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

absl::StatusOr<LoadedModel> Load(const ModelSetupOptions& o) {
  std::ostringstream log;
  return SetUpModel(o, log);
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(ModelSetupTest, DemoModelChatsInChatMl) {
  absl::StatusOr<LoadedModel> m = Load(ModelSetupOptions{});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_NE(m->chat_template, nullptr);
  absl::StatusOr<std::string> text = m->chat_template->Render({{"user", "Hi"}}, true);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ModelSetupTest, ChatTemplateFlagOverridesAndBrokenOnesFailAtStartup) {
  ScratchDir dir;
  WriteFile(dir.File("t.jinja"),
            "{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}");
  ModelSetupOptions o;
  o.chat_template = dir.File("t.jinja");
  absl::StatusOr<LoadedModel> m = Load(o);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m->chat_template->Render({{"user", "Hi"}}, true), "[user] Hi");
  EXPECT_THAT(m->chat_template->source(), HasSubstr("t.jinja"));

  WriteFile(dir.File("broken.jinja"), "{% if messages %}unclosed");
  o.chat_template = dir.File("broken.jinja");
  absl::StatusOr<LoadedModel> broken = Load(o);
  EXPECT_FALSE(broken.ok());
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("broken.jinja"));

  o.chat_template = dir.File("missing.jinja");
  EXPECT_THAT(std::string(Load(o).status().message()), HasSubstr("missing.jinja"));
}

TEST(ModelSetupTest, DummyPresetWithoutADirectoryHasNoTokenizerOrTemplate) {
  ModelSetupOptions o;
  o.load_format = "dummy";
  o.preset = "tiny";
  absl::StatusOr<LoadedModel> m = Load(o);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->tokenizer, nullptr);
  EXPECT_EQ(m->chat_template, nullptr);
}

// `--model DIR --load-format dummy`: random weights of DIR's config.json, and
// DIR's real tokenizer and chat template (Llama 3's).
TEST(ModelSetupTest, DummyWeightsKeepTheDirectorysTokenizerAndTemplate) {
  const std::optional<fs::path> models = SharedModelsDir();
  if (!models) GTEST_SKIP() << "../shared/models is absent";
  ScratchDir dir;
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(*models / "tokenizers/llama3" / name, dir.path() / name);
  }
  absl::StatusOr<ModelConfig> c = PresetConfig("tiny");
  ASSERT_TRUE(c.ok());
  c->vocab_size = 128256;
  c->bos_token_id = 128000;
  c->eos_token_ids = {128001};
  WriteFile(dir.File("config.json"), ToHfConfigJson(*c));
  ModelSetupOptions o;
  o.model = dir.path().string();
  o.load_format = "dummy";
  absl::StatusOr<LoadedModel> m = Load(o);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_NE(m->tokenizer, nullptr);
  EXPECT_EQ(m->tokenizer->bos_id(), 128000);
  ASSERT_NE(m->chat_template, nullptr);
  absl::StatusOr<std::string> text = m->chat_template->Render({{"user", "Hi"}}, true);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_THAT(m->weights.config.eos_token_ids, Contains(128001));
}

}  // namespace
}  // namespace gqa::testing
