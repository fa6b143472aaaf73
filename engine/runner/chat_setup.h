// ModelChatTemplate: the chat template a model is served with, ready to turn a
// conversation into prompt text, and the code that finds it. In order:
//   1. --chat-template FILE (a Jinja2 file, or an HF tokenizer_config.json),
//   2. a GGUF file's `tokenizer.chat_template`,
//   3. an HF directory's chat_template.jinja or tokenizer_config.json.
// A llama2.c checkpoint has none unless given one; the demo model uses ChatML.
//
// A template that does not parse, or that fails on a one-message conversation,
// is a startup error: the server never starts with a template it cannot run.
//
// Thread ownership: immutable after loading; Render is const and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/chat/chat_template.h"
#include "engine/tokenizer/tokenizer.h"

namespace gqa {

// ChatML (as SmolLM2 and Qwen use it, without a default system message): the
// demo model's template.
inline constexpr char kChatMlTemplate[] =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

class ModelChatTemplate {
 public:
  // `source` names where the template came from, for logs and errors. The
  // tokenizer's BOS and first EOS strings become `bos_token` / `eos_token`
  // (as transformers passes them), empty when it has none.
  static absl::StatusOr<std::unique_ptr<ModelChatTemplate>> Create(std::string_view template_text,
                                                                   std::string source,
                                                                   const Tokenizer* tokenizer);

  // The prompt text for `messages`. A template error (raise_exception, a
  // missing value) is INVALID_ARGUMENT with the template's message.
  absl::StatusOr<std::string> Render(std::vector<ChatMessage> messages,
                                     bool add_generation_prompt) const;

  const std::string& source() const { return source_; }

 private:
  ModelChatTemplate(ChatTemplate tmpl, std::string source)
      : template_(std::move(tmpl)), source_(std::move(source)) {}

  ChatTemplate template_;
  std::string source_;
  std::string bos_token_;
  std::string eos_token_;
};

// Finds the template for `model_path` (GGUF file, HF directory, or anything
// else: none; the demo model: ChatML) unless `override_path` names one. Null
// when there is none.
absl::StatusOr<std::unique_ptr<ModelChatTemplate>> LoadModelChatTemplate(
    const std::string& model_path, bool is_demo_model, const std::string& override_path,
    const Tokenizer* tokenizer);

}  // namespace gqa
