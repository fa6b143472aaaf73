// ChatTemplate: a model's Jinja2 chat template, parsed once and rendered per
// conversation by the project's own Jinja2 subset (engine/chat/*), with the
// environment transformers' apply_chat_template uses:
// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), the
// loopcontrols extension, raise_exception, strftime_now and its tojson.
// Output is byte-identical to Python's jinja2 on real templates
// (tests/engine/chat/compare_with_jinja2.py).
//
// Thread ownership: immutable after Parse; Render is const and thread-safe
// (each render has its own state). Copies share the parsed tree.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gqa {

namespace chat {
struct Stmt;
}

struct ChatMessage {
  std::string role;
  std::string content;
};

struct ChatTemplateInput {
  std::vector<ChatMessage> messages;
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  // More template variables (e.g. "tools", "enable_thinking"), an object; a
  // key here replaces the one above ("messages" with structured content or
  // tool calls). Ordered so that tojson prints keys in their given order.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  // Syntax errors are InvalidArgument("line N: ...").
  static absl::StatusOr<ChatTemplate> Parse(std::string_view source);

  // The prompt text. Context: messages (role, content), add_generation_prompt,
  // bos_token, eos_token, tools = None, documents = None (as transformers
  // passes them), then extra_context. Errors are InvalidArgument: a
  // raise_exception(msg) gives exactly msg; others "line N: ...", including a
  // render past the limits (64 MiB of output, 100 nested macro calls,
  // 5M evaluation steps).
  absl::StatusOr<std::string> Render(const ChatTemplateInput& input) const;

 private:
  explicit ChatTemplate(std::shared_ptr<const std::vector<std::unique_ptr<chat::Stmt>>> body)
      : body_(std::move(body)) {}

  std::shared_ptr<const std::vector<std::unique_ptr<chat::Stmt>>> body_;
};

// The template of an HF model directory: chat_template.jinja, else
// tokenizer_config.json's "chat_template" (a string, or a list of
// {name, template}: the one named "default"). NotFound when there is none.
absl::StatusOr<std::string> ReadHfChatTemplate(const std::string& model_dir);

}  // namespace gqa
