// Chat templates: ChatTemplate::Parse (lexer, parser) on arbitrary source,
// then a render (the renderer, filters, tests, methods, tojson) of a small
// fixed conversation, with and without the generation prompt.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/chat/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gqa::ChatTemplate> t = gqa::ChatTemplate::Parse(source);
  if (!t.ok()) return 0;
  gqa::ChatTemplateInput input;
  input.messages = {{"system", "You are terse."},
                    {"user", "Hi! \xc3\xa9 {{ x }}"},
                    {"assistant", "Hello."},
                    {"user", "2+2?"}};
  input.bos_token = "<s>";
  input.eos_token = "</s>";
  input.extra_context["tools"] = nlohmann::ordered_json::array(
      {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", {{"x", 1}}}}}}});
  (void)t->Render(input);
  input.add_generation_prompt = false;
  input.extra_context = nlohmann::ordered_json::object();
  (void)t->Render(input);
  return 0;
}
