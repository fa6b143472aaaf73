#include "engine/runner/chat_setup.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/hf_loader.h"

namespace gqa {
namespace {

namespace fs = std::filesystem;

std::string TokenOrEmpty(const Tokenizer* tokenizer, int id) {
  return tokenizer && id >= 0 && id < tokenizer->vocab_size() ? tokenizer->TokenString(id) : "";
}

// The template text and where it came from; empty text when the model has none.
struct TemplateText {
  std::string text;
  std::string source;
};

absl::StatusOr<TemplateText> FindTemplateText(const std::string& model_path, bool is_demo_model,
                                              const std::string& override_path) {
  std::error_code ec;
  if (!override_path.empty()) {
    if (fs::is_directory(override_path, ec)) {
      GQA_ASSIGN_OR_RETURN(std::string text, ReadHfChatTemplate(override_path));
      return TemplateText{std::move(text), "--chat-template " + override_path};
    }
    GQA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(override_path));
    return TemplateText{std::move(text), "--chat-template " + override_path};
  }
  if (is_demo_model) return TemplateText{kChatMlTemplate, "ChatML (the demo model's)"};
  if (model_path.empty()) return TemplateText{};
  if (fs::is_directory(model_path, ec)) {
    absl::StatusOr<std::string> text = ReadHfChatTemplate(model_path);
    if (absl::IsNotFound(text.status())) return TemplateText{};
    GQA_RETURN_IF_ERROR(text.status());
    return TemplateText{*std::move(text), model_path};
  }
  if (gguf::IsGgufFile(model_path)) {
    GQA_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(model_path));
    if (!file->Has("tokenizer.chat_template")) return TemplateText{};
    GQA_ASSIGN_OR_RETURN(std::string_view text, file->GetString("tokenizer.chat_template"));
    return TemplateText{std::string(text), absl::StrCat(model_path, " (tokenizer.chat_template)")};
  }
  return TemplateText{};
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelChatTemplate>> ModelChatTemplate::Create(
    std::string_view template_text, std::string source, const Tokenizer* tokenizer) {
  absl::StatusOr<ChatTemplate> parsed = ChatTemplate::Parse(template_text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("chat template of ", source, ": ", parsed.status().message()));
  }
  std::unique_ptr<ModelChatTemplate> t(
      new ModelChatTemplate(*std::move(parsed), std::move(source)));
  if (tokenizer) {
    t->bos_token_ = TokenOrEmpty(tokenizer, tokenizer->bos_id());
    const std::vector<int> eos = tokenizer->eos_ids();
    if (!eos.empty()) t->eos_token_ = TokenOrEmpty(tokenizer, eos.front());
  }
  // A template that cannot render the simplest conversation is unusable:
  // say so at startup rather than on every request.
  absl::StatusOr<std::string> probe = t->Render({ChatMessage{"user", "Hello"}}, true);
  if (!probe.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("chat template of ", t->source_,
                     " fails on a one-message conversation: ", probe.status().message()));
  }
  return t;
}

absl::StatusOr<std::string> ModelChatTemplate::Render(std::vector<ChatMessage> messages,
                                                      bool add_generation_prompt) const {
  ChatTemplateInput input;
  input.messages = std::move(messages);
  input.add_generation_prompt = add_generation_prompt;
  input.bos_token = bos_token_;
  input.eos_token = eos_token_;
  return template_.Render(input);
}

absl::StatusOr<std::unique_ptr<ModelChatTemplate>> LoadModelChatTemplate(
    const std::string& model_path, bool is_demo_model, const std::string& override_path,
    const Tokenizer* tokenizer) {
  GQA_ASSIGN_OR_RETURN(TemplateText found,
                       FindTemplateText(model_path, is_demo_model, override_path));
  if (found.text.empty()) return nullptr;
  return ModelChatTemplate::Create(found.text, std::move(found.source), tokenizer);
}

}  // namespace gqa
