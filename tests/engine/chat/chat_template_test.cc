// ChatTemplate's errors and limits. Output parity with jinja2 is
// chat_template_parity's job (compare_with_jinja2.py); these check what a
// comparison can't: error kinds and lines, limits, robustness on any input.
#include "engine/chat/chat_template.h"

#include <fstream>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<std::string> RenderText(std::string_view source,
                                       std::vector<ChatMessage> messages = {{"user", "hi"}}) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(source);
  if (!t.ok()) return t.status();
  ChatTemplateInput input;
  input.messages = std::move(messages);
  input.bos_token = "<s>";
  return t->Render(input);
}

TEST(ChatTemplateTest, RendersMessagesAndContext) {
  absl::StatusOr<std::string> out = RenderText(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m['content'] }}]{% endfor %}"
      "{% if add_generation_prompt %}>{% endif %}{{ tools }}",
      {{"system", "s"}, {"user", "u"}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "<s>[system:s][user:u]>None");
}

TEST(ChatTemplateTest, ExtraContextAddsAndReplacesVariables) {
  absl::StatusOr<ChatTemplate> t =
      ChatTemplate::Parse("{{ x|tojson }}|{{ messages[0].content[0].text }}");
  ASSERT_TRUE(t.ok());
  ChatTemplateInput input;
  input.extra_context = nlohmann::ordered_json::parse(
      R"({"x": {"b": 1, "a": [true, null, 1.5]}, "messages": [{"role": "user", "content": [{"text": "T"}]}]})");
  absl::StatusOr<std::string> out = t->Render(input);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, R"({"b": 1, "a": [true, null, 1.5]}|T)");
}

// Found by fuzz/chat_template_fuzzer (fuzz/regressions/chat_template/): a
// slice inside a tuple subscript was evaluated without its object (a null
// dereference).
TEST(ChatTemplateTest, ASliceInsideATupleSubscriptIsAnError) {
  for (const char* source : {"{{ [1, 2, 3][0:1, 2] }}", "{{ 'abc'[1, :2] }}"}) {
    absl::StatusOr<std::string> out = RenderText(source);
    ASSERT_FALSE(out.ok()) << source << " -> " << *out;
    EXPECT_THAT(out.status().message(), HasSubstr("slice must be the whole subscript")) << source;
  }
}

TEST(ChatTemplateTest, SyntaxErrorsNameTheLine) {
  struct Case {
    const char* source;
    const char* line;
    const char* text;
  };
  const Case cases[] = {
      {"ok\n{% if x %}\n\n{% endfor %}", "line 4:", "endfor"},
      {"{% for x in y %}\nno end", "line 2:", "endfor"},
      {"a\nb\n{{ 1 + }}", "line 3:", "unexpected"},
      {"{{ x", "line 1:", "end of template"},
      {"\n{# never closed", "line 2:", "comment"},
      {"{% frobnicate %}", "line 1:", "unknown tag 'frobnicate'"},
      {"\n\n{{ x | nosuchfilter }}", "line 3:", "No filter named 'nosuchfilter'"},
      {"\n{{ x is nosuchtest }}", "line 2:", "No test named 'nosuchtest'"},
      {"{{ (1, 2] }}", "line 1:", "unexpected ']'"},
      {"{{ 'unterminated }}", "line 1:", "string"},
      {"{% set 1 = 2 %}", "line 1:", "expected token name"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(c.source);
    ASSERT_FALSE(t.ok()) << c.source;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << c.source;
    EXPECT_THAT(std::string(t.status().message()), StartsWith(c.line)) << c.source;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.text)) << c.source;
  }
}

TEST(ChatTemplateTest, UnknownFilterInsideIfFailsOnlyWhenEvaluated) {
  // jinja2 defers unknown filters in conditional code to render time.
  absl::StatusOr<ChatTemplate> t =
      ChatTemplate::Parse("{% if messages|length > 1 %}{{ x|nosuch }}{% endif %}ok");
  ASSERT_TRUE(t.ok()) << t.status();
  ChatTemplateInput one;
  one.messages = {{"user", "a"}};
  EXPECT_EQ(t->Render(one).value_or("error"), "ok");
  ChatTemplateInput two;
  two.messages = {{"user", "a"}, {"user", "b"}};
  absl::StatusOr<std::string> out = t->Render(two);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("No filter named 'nosuch'"));
}

TEST(ChatTemplateTest, RaiseExceptionIsInvalidArgumentWithItsMessage) {
  absl::StatusOr<std::string> out = RenderText(
      "{% if messages[0].role != 'system' %}{{ raise_exception('Roles must be ' ~ 'system') }}{% "
      "endif %}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "Roles must be system");
}

TEST(ChatTemplateTest, RenderErrorsNameTheLine) {
  absl::StatusOr<std::string> out = RenderText("a\n\n{{ missing.attr }}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "line 3: 'missing' is undefined");
  out = RenderText("{{ 'a' + 1 }}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("can only concatenate str"));
  out = RenderText("{{ 1 // 0 }}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("by zero"));
}

TEST(ChatTemplateTest, InfiniteRecursionIsAnError) {
  absl::StatusOr<std::string> out =
      RenderText("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("macro calls nested deeper than 100"));
}

TEST(ChatTemplateTest, HugeOutputAndEndlessLoopsAreErrors) {
  absl::StatusOr<std::string> out = RenderText("{{ 'x' * 1000000000 }}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("exceeds the output limit"));
  // 10^10 iterations: stopped by the step limit, not run.
  out = RenderText(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("evaluation steps"));
  // Doubling a string: 2^40 bytes are never allocated.
  out = RenderText(
      "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}"
      "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("output limit"));
  out = RenderText("{{ range(1000000) }}");
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("MAX_RANGE"));
}

TEST(ChatTemplateTest, DeepNestingIsAnErrorNotAStackOverflow) {
  for (const char* open : {"(", "[", "not ", "-", "{'a': "}) {
    std::string src = "{{ ";
    for (int i = 0; i < 100000; ++i) src += open;
    src += "1 }}";
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(src);
    ASSERT_FALSE(t.ok()) << open;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  }
  std::string blocks;
  for (int i = 0; i < 100000; ++i) blocks += "{% if true %}";
  EXPECT_FALSE(ChatTemplate::Parse(blocks).ok());
}

TEST(ChatTemplateTest, NeverCrashesOnRandomInput) {
  // Random sequences of template fragments: every one parses or fails
  // cleanly, and every parsed one renders or fails cleanly.
  const std::vector<std::string> pieces = {
      "{{",        "}}",      "{%",        "%}",      "{#",       "#}",     "-",      "+",
      " ",         "\n",      "if",        "for",     "in",       "endif",  "endfor", "else",
      "elif",      "set",     "=",         "x",       "messages", "loop",   ".",      "[",
      "]",         "(",       ")",         "'s'",     "\"\\",     "1",      "2.5",    "|",
      "length",    "tojson",  "is",        "defined", "not",      "and",    "or",     "~",
      "*",         "/",       "//",        "%",       ":",        ",",      "macro",  "endmacro",
      "call",      "caller",  "namespace", "ns",      "raw",      "endraw", "filter", "upper",
      "endfilter", "{",       "}",         "\xff",    "\xe4\xb8", "-1",     "range",  "break",
      "continue",  "content", "role",      "[::-1]",  "None",     "true"};
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string src;
    int n = 1 + rng() % 24;
    for (int k = 0; k < n; ++k) src += pieces[rng() % pieces.size()];
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(src);
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << src;
      continue;
    }
    ++parsed;
    ChatTemplateInput input;
    input.messages = {{"user", "hello"}, {"assistant", "{{ x }}"}};
    absl::StatusOr<std::string> out = t->Render(input);
    if (!out.ok()) {
      EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << src;
    }
  }
  EXPECT_GT(parsed, 100);  // the generator reaches the renderer
}

TEST(ChatTemplateTest, CopiesShareTheParsedTemplate) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse("{{ messages|length }}");
  ASSERT_TRUE(t.ok());
  ChatTemplate copy = *t;
  ChatTemplateInput input;
  input.messages = {{"user", "a"}, {"user", "b"}};
  EXPECT_EQ(copy.Render(input).value_or("error"), "2");
  EXPECT_EQ(t->Render(input).value_or("error"), "2");
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(ReadHfChatTemplateTest, FindsTheTemplateOfAModelDirectory) {
  testing::ScratchDir dir;
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).status().code(), absl::StatusCode::kNotFound);
  WriteFile(dir.File("tokenizer_config.json"), R"({"bos_token": "<s>"})");
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).status().code(), absl::StatusCode::kNotFound);
  WriteFile(dir.File("tokenizer_config.json"), R"({"chat_template": "T1"})");
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).value_or(""), "T1");
  WriteFile(
      dir.File("tokenizer_config.json"),
      R"({"chat_template": [{"name": "tool_use", "template": "T2"}, {"name": "default", "template": "T3"}]})");
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).value_or(""), "T3");
  WriteFile(dir.File("tokenizer_config.json"),
            R"({"chat_template": [{"name": "rag", "template": "T2"}]})");
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).status().code(), absl::StatusCode::kNotFound);
  WriteFile(dir.File("tokenizer_config.json"), "{not json");
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).status().code(),
            absl::StatusCode::kInvalidArgument);
  WriteFile(dir.File("chat_template.jinja"), "J{{ x }}");
  EXPECT_EQ(ReadHfChatTemplate(dir.path().string()).value_or(""), "J{{ x }}");
}

TEST(ReadHfChatTemplateTest, ReadsTheSharedTokenizersTemplates) {
  std::optional<std::filesystem::path> models = testing::SharedModelsDir();
  if (!models) GTEST_SKIP() << "../shared/models absent";
  for (const char* name : {"llama3", "qwen3", "gemma3"}) {
    std::filesystem::path dir = *models / "tokenizers" / name;
    if (!std::filesystem::exists(dir)) continue;
    absl::StatusOr<std::string> text = ReadHfChatTemplate(dir.string());
    ASSERT_TRUE(text.ok()) << name << ": " << text.status();
    absl::StatusOr<ChatTemplate> t = ChatTemplate::Parse(*text);
    ASSERT_TRUE(t.ok()) << name << ": " << t.status();
    ChatTemplateInput input;
    input.messages = {{"user", "Hello"}};
    absl::StatusOr<std::string> out = t->Render(input);
    ASSERT_TRUE(out.ok()) << name << ": " << out.status();
    EXPECT_THAT(*out, HasSubstr("Hello")) << name;
  }
}

}  // namespace
}  // namespace gqa
