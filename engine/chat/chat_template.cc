#include "engine/chat/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/chat/ast.h"
#include "engine/chat/parser.h"
#include "engine/chat/renderer.h"
#include "engine/common/status_macros.h"

namespace gqa {
namespace {

using chat::Dict;
using chat::List;
using chat::Value;

Value FromJson(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      return u > static_cast<uint64_t>(INT64_MAX) ? Value::Float(static_cast<double>(u))
                                                  : Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      for (const auto& item : j) items.push_back(FromJson(item));
      return Value::MakeList(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      for (const auto& [k, v] : j.items()) d.Set(k, FromJson(v));
      return Value::MakeDict(std::move(d));
    }
    default:
      return Value::None();
  }
}

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<ChatTemplate> ChatTemplate::Parse(std::string_view source) {
  GQA_ASSIGN_OR_RETURN(chat::Body body, chat::ParseTemplate(source));
  return ChatTemplate(std::make_shared<const chat::Body>(std::move(body)));
}

absl::StatusOr<std::string> ChatTemplate::Render(const ChatTemplateInput& input) const {
  Dict context;
  List messages;
  for (const ChatMessage& m : input.messages) {
    Dict d;
    d.Set("role", Value::String(m.role));
    d.Set("content", Value::String(m.content));
    messages.push_back(Value::MakeDict(std::move(d)));
  }
  context.Set("messages", Value::MakeList(std::move(messages)));
  context.Set("tools", Value::None());
  context.Set("documents", Value::None());
  context.Set("add_generation_prompt", Value::Bool(input.add_generation_prompt));
  context.Set("bos_token", Value::String(input.bos_token));
  context.Set("eos_token", Value::String(input.eos_token));
  if (input.extra_context.is_object()) {
    for (const auto& [k, v] : input.extra_context.items()) context.Set(k, FromJson(v));
  }
  chat::Renderer renderer(*body_, std::move(context), chat::RenderLimits{});
  absl::StatusOr<std::string> out = renderer.Render();
  if (out.ok()) return out;
  // raise_exception (Aborted) is the template's own message; limits and
  // evaluation errors are all the request's problem: InvalidArgument.
  return absl::InvalidArgumentError(out.status().message());
}

absl::StatusOr<std::string> ReadHfChatTemplate(const std::string& model_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path jinja = fs::path(model_dir) / "chat_template.jinja";
  if (fs::exists(jinja, ec)) return ReadFile(jinja);
  fs::path config_path = fs::path(model_dir) / "tokenizer_config.json";
  if (!fs::exists(config_path, ec)) {
    return absl::NotFoundError(absl::StrCat("no chat template in ", model_dir));
  }
  GQA_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path));
  nlohmann::json config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path.string(), ": not a JSON object"));
  }
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) {
    return absl::NotFoundError(absl::StrCat("no chat_template in ", config_path.string()));
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const auto& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
    return absl::NotFoundError(
        absl::StrCat(config_path.string(), ": no chat_template named default"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(config_path.string(), ": chat_template is neither a string nor a list"));
}

}  // namespace gqa
