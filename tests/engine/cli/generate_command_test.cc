#include "engine/cli/generate_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_split.h"
#include "engine/model/dummy_weights.h"
#include "engine/model/llama2c_loader.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/utf8.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

absl::StatusOr<GenerateOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "gqa-generate");
  return ParseGenerateArgs(static_cast<int>(args.size()), args.data());
}

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Generate(std::vector<const char*> args) {
  absl::StatusOr<GenerateOptions> o = Parse(std::move(args));
  EXPECT_TRUE(o.ok()) << o.status();
  std::ostringstream out, err;
  const int code = RunGenerate(*o, out, err);
  return {code, out.str(), err.str()};
}

TEST(GenerateArgsTest, BadFlagsNameTheFlag) {
  EXPECT_THAT(Parse({"--max-tokens", "ten"}).status().message(), HasSubstr("--max-tokens"));
  EXPECT_THAT(Parse({"--bogus"}).status().message(), HasSubstr("--bogus"));
  EXPECT_THAT(Parse({"--temperature"}).status().message(), HasSubstr("needs a value"));
  EXPECT_THAT(Parse({"--prompt", "a", "--prompt-ids", "1"}).status().message(),
              HasSubstr("one of --prompt, --prompt-ids and --chat"));
  EXPECT_THAT(Parse({"--chat", "a", "--prompt", "b"}).status().message(),
              HasSubstr("one of --prompt, --prompt-ids and --chat"));
  EXPECT_THAT(Parse({"--ignore-eos=1"}).status().message(), HasSubstr("takes no value"));
  EXPECT_THAT(Parse({"stray"}).status().message(), HasSubstr("stray"));
  absl::StatusOr<GenerateOptions> ok =
      Parse({"--temperature=0.5", "--top-k", "3", "--seed", "9", "--print-ids"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->sampling.temperature, 0.5f);
  EXPECT_EQ(ok->sampling.top_k, 3);
  EXPECT_EQ(ok->sampling.seed, 9u);
  EXPECT_TRUE(ok->print_ids);
}

TEST(GenerateArgsTest, PrefixCachingIsOnUnlessTurnedOff) {
  EXPECT_TRUE(Parse({})->enable_prefix_caching);
  EXPECT_TRUE(Parse({"--enable-prefix-caching"})->enable_prefix_caching);
  EXPECT_FALSE(Parse({"--no-enable-prefix-caching"})->enable_prefix_caching);
  EXPECT_THAT(Parse({"--enable-prefix-caching", "--no-enable-prefix-caching"}).status().message(),
              HasSubstr("one of --enable-prefix-caching and --no-enable-prefix-caching"));
}

TEST(GenerateCommandTest, PrefixCachingOffGivesTheSameTokens) {
  const CliRun on = Generate({"--prompt", "Hello there", "--max-tokens", "20", "--print-ids",
                              "--temperature", "0.8", "--seed", "5", "--ignore-eos"});
  const CliRun off = Generate({"--prompt", "Hello there", "--max-tokens", "20", "--print-ids",
                               "--temperature", "0.8", "--seed", "5", "--ignore-eos",
                               "--no-enable-prefix-caching"});
  ASSERT_EQ(on.code, 0) << on.err;
  ASSERT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(on.out, off.out);
}

TEST(GenerateCommandTest, DemoModelPrintsExactlyMaxTokensIdsReproducibly) {
  const CliRun a = Generate({"--prompt", "Hello", "--max-tokens", "12", "--print-ids",
                             "--temperature", "0.8", "--seed", "5", "--ignore-eos"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_THAT(a.err, HasSubstr("demo model"));
  std::vector<std::string> ids = absl::StrSplit(a.out.substr(0, a.out.size() - 1), ' ');
  EXPECT_THAT(ids, SizeIs(12));
  const CliRun b = Generate({"--prompt", "Hello", "--max-tokens", "12", "--print-ids",
                             "--temperature", "0.8", "--seed", "5", "--ignore-eos"});
  EXPECT_EQ(a.out, b.out);
}

TEST(GenerateCommandTest, TextModeStreamsTheDecodedIds) {
  const CliRun ids = Generate({"--prompt-ids", "1,72,105", "--max-tokens", "8", "--print-ids",
                               "--temperature", "0", "--ignore-eos"});
  const CliRun text = Generate(
      {"--prompt-ids", "1,72,105", "--max-tokens", "8", "--temperature", "0", "--ignore-eos"});
  ASSERT_EQ(ids.code, 0);
  ASSERT_EQ(text.code, 0);
  std::vector<int> generated;
  for (absl::string_view id : absl::StrSplit(ids.out.substr(0, ids.out.size() - 1), ' ')) {
    generated.push_back(std::stoi(std::string(id)));
  }
  ASSERT_THAT(generated, SizeIs(8));
  // The demo vocabulary is bytes; the stream shows them as UTF-8, U+FFFD for invalid bytes.
  EXPECT_EQ(text.out, Utf8ReplaceInvalid(ByteTokenizer().Decode(generated)) + "\n");
}

// --chat renders the message with the demo model's ChatML template and adds no
// special tokens: the same ids as the rendered text's bytes given as ids.
TEST(GenerateCommandTest, ChatRendersTheTemplate) {
  const CliRun chat = Generate(
      {"--chat", "Hi", "--max-tokens", "6", "--print-ids", "--temperature", "0", "--ignore-eos"});
  ASSERT_EQ(chat.code, 0) << chat.err;
  std::string ids;
  for (int id : ByteTokenizer().Encode("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                                       /*add_special_tokens=*/false)) {
    ids += (ids.empty() ? "" : ",") + std::to_string(id);
  }
  const CliRun plain = Generate({"--prompt-ids", ids.c_str(), "--max-tokens", "6", "--print-ids",
                                 "--temperature", "0", "--ignore-eos"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(chat.out, plain.out);
  const CliRun llama2c_like =
      Generate({"--load-format", "dummy", "--preset", "tiny", "--chat", "Hi"});
  EXPECT_NE(llama2c_like.code, 0);
  EXPECT_THAT(llama2c_like.err, HasSubstr("no chat template"));
}

TEST(GenerateCommandTest, ErrorsGoToStderrWithNonZeroExit) {
  const CliRun missing = Generate({"--model", "/nonexistent/model.bin", "--prompt", "x"});
  EXPECT_NE(missing.code, 0);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/model.bin"));
  EXPECT_TRUE(missing.out.empty());
  const CliRun bad_id = Generate({"--prompt-ids", "1,99999", "--print-ids"});
  EXPECT_NE(bad_id.code, 0);
  EXPECT_THAT(bad_id.err, HasSubstr("prompt_token_ids[1]"));
  const CliRun no_tokenizer =
      Generate({"--load-format", "dummy", "--preset", "tiny", "--prompt", "x"});
  EXPECT_NE(no_tokenizer.code, 0);
  EXPECT_THAT(no_tokenizer.err, HasSubstr("--tokenizer"));
}

// A llama2.c checkpoint with the real 512-token vocabulary: text in, text out.
TEST(GenerateCommandTest, Llama2cCheckpointWithTokenizerFile) {
  const auto models = testing::SharedModelsDir();
  if (!models) GTEST_SKIP() << "../shared/models is absent";
  absl::StatusOr<ModelConfig> c = PresetConfig("tiny");  // vocab 512
  ASSERT_TRUE(c.ok());
  c->rope_style = RopeStyle::kInterleaved;
  testing::ScratchDir dir;
  ASSERT_TRUE(SaveLlama2c(*MakeDummyWeights(*c, DType::kF32, 3), dir.File("m.bin")).ok());
  const std::string tok = (*models / "tinystories-tok512/tok512.bin").string();
  const CliRun run =
      Generate({"--model", dir.File("m.bin").c_str(), "--tokenizer", tok.c_str(), "--prompt",
                "Once upon a time", "--max-tokens", "16", "--temperature", "0"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("llama2.c checkpoint"));
  EXPECT_THAT(run.err, HasSubstr("prompt tokens"));
}

}  // namespace
}  // namespace gqa
