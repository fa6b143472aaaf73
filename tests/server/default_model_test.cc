// The default model, SmolLM2-135M-Instruct from its GGUF, served as
// scripts/start.sh serves it: a chat gets a real answer that ends by itself at
// the end-of-turn token. Skips when the GGUF has not been fetched
// (scripts/fetch_default_model.sh; scripts/test.sh runs it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kImEnd = 2;      // <|im_end|>: EOS and end of turn
constexpr int kEndOfText = 0;  // <|endoftext|>: also ends generation

absl::StatusOr<LoadedModel> LoadDefault(const std::string& load_format) {
  const std::optional<std::string> path = DefaultModelGguf();
  ModelSetupOptions o;
  o.model = *path;
  o.load_format = load_format;
  o.preset = "";
  std::ostringstream log;
  return SetUpModel(o, log);
}

TEST(DefaultModelTest, AnswersAChatAndStopsByItself) {
  if (!DefaultModelGguf()) GTEST_SKIP() << "the default model has not been fetched";
  absl::StatusOr<LoadedModel> model = LoadDefault("auto");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_NE(model->tokenizer, nullptr);
  ASSERT_NE(model->chat_template, nullptr);
  EXPECT_THAT(model->weights.config.eos_token_ids, ElementsAre(kImEnd, kEndOfText));
  std::unique_ptr<ServerApp> app = StartTestServerWith(*std::move(model));
  ASSERT_NE(app, nullptr);
  auto stub = NewStub(*app);

  grpc::ClientContext ctx;
  v1::ModelInfo info;
  ASSERT_TRUE(stub->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info).ok());
  EXPECT_TRUE(info.has_chat_template());
  EXPECT_THAT(info.eos_token_ids(), ElementsAre(kImEnd, kEndOfText));
  EXPECT_EQ(info.n_heads(), 9);
  EXPECT_EQ(info.n_kv_heads(), 3);

  v1::GenerateRequest r;
  v1::ChatMessage* m = r.mutable_chat()->add_messages();
  m->set_role("user");
  // A question the Q4_1 file answers right both from its quantized weights
  // (the default, int8 activations as llama.cpp computes) and dequantized to
  // f32; "the capital of France" flips to a French sentence with int8
  // activations, here and in llama.cpp alike.
  m->set_content("What is the capital of Japan?");
  r.mutable_sampling()->set_temperature(0);
  r.mutable_stopping()->set_max_tokens(64);
  v1::GenerateResponse response;
  const grpc::Status s = Generate(*stub, r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_EOS) << response.text();
  EXPECT_EQ(response.token_ids(response.token_ids_size() - 1), kImEnd);
  EXPECT_THAT(response.text(), HasSubstr("Tokyo"));
  EXPECT_THAT(response.text(), ::testing::Not(HasSubstr("<|im_end|>")));
}

TEST(DefaultModelTest, DummyWeightsKeepTheRealTokenizerAndTemplate) {
  if (!DefaultModelGguf()) GTEST_SKIP() << "the default model has not been fetched";
  absl::StatusOr<LoadedModel> model = LoadDefault("dummy");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->weights.config.n_kv_heads, 3);
  ASSERT_NE(model->tokenizer, nullptr);
  EXPECT_EQ(model->tokenizer->vocab_size(), 49152);
  EXPECT_NE(model->chat_template, nullptr);
}

}  // namespace
}  // namespace gqa::testing
