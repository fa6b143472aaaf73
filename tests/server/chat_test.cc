// GenerateRequest.chat: rendered with the model's chat template, tokenized
// without added special tokens, and refused with INVALID_ARGUMENT naming the
// field when the model has no template, a role is unknown, or the template
// raises. The tiny byte model makes the rendered text's ids its bytes, so the
// expected prompts below are written out by hand, not by the template engine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

v1::GenerateRequest GreedyChat(std::vector<std::pair<std::string, std::string>> messages,
                               int max_tokens) {
  v1::GenerateRequest r = GreedyTextRequest("", max_tokens);
  v1::Chat* chat = r.mutable_chat();  // the input, even with no messages
  for (auto& [role, content] : messages) {
    v1::ChatMessage* m = chat->add_messages();
    m->set_role(role);
    m->set_content(content);
  }
  return r;
}

v1::GenerateRequest GreedyIds(const std::string& text, int max_tokens) {
  v1::GenerateRequest r = GreedyTextRequest("", max_tokens);
  ByteTokenizer bytes;
  for (int id : bytes.Encode(text, /*add_special_tokens=*/false)) {
    r.mutable_prompt_token_ids()->add_ids(id);
  }
  return r;
}

class ChatTest : public ::testing::Test {
 protected:
  void Start(LoadedModel model) {
    app_ = StartTestServerWith(std::move(model));
    ASSERT_NE(app_, nullptr);
    stub_ = NewStub(*app_);
  }
  grpc::Status Run(const v1::GenerateRequest& r, v1::GenerateResponse* response) {
    return Generate(*stub_, r, response);
  }
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

TEST_F(ChatTest, RendersTheTemplateWithoutAddedSpecialTokens) {
  Start(TinyByteChatModel());
  const std::string rendered =
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi \"there\"\n"
      "<|im_end|>\n<|im_start|>assistant\n";
  v1::GenerateResponse chat, ids;
  ASSERT_TRUE(
      Run(GreedyChat({{"system", "Be brief."}, {"user", "Hi \"there\"\n"}}, 8), &chat).ok());
  ASSERT_TRUE(Run(GreedyIds(rendered, 8), &ids).ok());
  // No BOS in front (the byte tokenizer adds one with special tokens).
  EXPECT_EQ(chat.usage().prompt_tokens(), static_cast<int>(rendered.size()));
  EXPECT_EQ(std::vector<int>(chat.token_ids().begin(), chat.token_ids().end()),
            std::vector<int>(ids.token_ids().begin(), ids.token_ids().end()));

  // add_generation_prompt = false: the conversation as it stands.
  v1::GenerateRequest open = GreedyChat({{"user", "Hi"}}, 8);
  open.mutable_chat()->set_add_generation_prompt(false);
  const std::string conversation = "<|im_start|>user\nHi<|im_end|>\n";
  ASSERT_TRUE(Run(open, &chat).ok());
  ASSERT_TRUE(Run(GreedyIds(conversation, 8), &ids).ok());
  EXPECT_EQ(chat.usage().prompt_tokens(), static_cast<int>(conversation.size()));
  EXPECT_EQ(chat.text(), ids.text());
}

TEST_F(ChatTest, StreamsTheSameTokens) {
  Start(TinyByteChatModel());
  const v1::GenerateRequest r =
      GreedyChat({{"user", "Hello"}, {"assistant", "Hi"}, {"user", "?"}}, 6);
  v1::GenerateResponse unary;
  ASSERT_TRUE(Run(r, &unary).ok());
  std::vector<v1::GenerateResponse> messages;
  ASSERT_TRUE(Stream(*stub_, r, &messages).ok());
  EXPECT_EQ(Join(messages).text(), unary.text());
  EXPECT_EQ(Join(messages).token_ids_size(), 6);
}

TEST_F(ChatTest, BadChatsAreInvalidArgumentNamingTheField) {
  Start(TinyByteChatModel(
      "{% for m in messages %}{% if m['content'] == 'boom' %}{{ raise_exception('no booms "
      "here') }}{% endif %}{{ m['content'] }}{% endfor %}"));
  const struct {
    v1::GenerateRequest request;
    const char* field;
  } cases[] = {
      {GreedyChat({}, 4), "chat.messages: must not be empty"},
      {GreedyChat({{"user", "a"}, {"wizard", "b"}}, 4),
       "chat.messages[1].role: unknown role 'wizard'"},
      {GreedyChat({{"user", "boom"}}, 4), "no booms here"},
      {GreedyChat({{"user", ""}}, 4), "rendered an empty prompt"},
  };
  for (const auto& c : cases) {
    v1::GenerateResponse r;
    const grpc::Status s = Run(c.request, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
  EXPECT_EQ(app_->engine()->Stats().num_active, 0);
}

TEST_F(ChatTest, ModelWithoutTemplateRefusesChatsAndSaysSo) {
  Start(TinyByteModel());
  v1::GenerateResponse r;
  const grpc::Status s = Run(GreedyChat({{"user", "Hi"}}, 4), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("no chat template"));
  grpc::ClientContext ctx;
  v1::ModelInfo info;
  ASSERT_TRUE(stub_->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info).ok());
  EXPECT_FALSE(info.has_chat_template());
}

TEST(ChatTemplateSetupTest, BrokenTemplatesAreStartupErrors) {
  ByteTokenizer bytes;
  absl::StatusOr<std::unique_ptr<ModelChatTemplate>> unparsable =
      ModelChatTemplate::Create("{% for m in messages %}", "bad.jinja", &bytes);
  EXPECT_FALSE(unparsable.ok());
  EXPECT_THAT(std::string(unparsable.status().message()), HasSubstr("bad.jinja"));
  absl::StatusOr<std::unique_ptr<ModelChatTemplate>> always_raises =
      ModelChatTemplate::Create("{{ raise_exception('never') }}", "raises.jinja", &bytes);
  EXPECT_FALSE(always_raises.ok());
  EXPECT_THAT(std::string(always_raises.status().message()), HasSubstr("never"));
}

}  // namespace
}  // namespace gqa::testing
