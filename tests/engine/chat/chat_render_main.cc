// gqa-chat-render: renders chat templates over conversations, for the
// jinja2 comparison (tests/engine/chat/compare_with_jinja2.py).
//
//   gqa-chat-render INPUT.json  ->  stdout: JSON
// INPUT: {"templates": [{"name": ..., "source": ...,
//          "cases": [{"messages": [...], "add_generation_prompt": bool,
//                     "bos_token": str, "eos_token": str, "extra": {...}}]}]}
// OUTPUT: {name: {"parse_error": msg} or {"results": [{"text": ...} or {"error": msg}]}}
// Messages that are all {"role": str, "content": str} go through
// ChatTemplateInput::messages; others (structured content, tool calls)
// through extra_context["messages"].
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/chat/chat_template.h"

namespace {

using Json = nlohmann::ordered_json;

bool PlainMessages(const Json& messages) {
  for (const Json& m : messages) {
    if (!m.is_object() || m.size() != 2 || !m.contains("role") || !m.contains("content") ||
        !m["role"].is_string() || !m["content"].is_string()) {
      return false;
    }
  }
  return true;
}

Json RenderCase(const gqa::ChatTemplate& tmpl, const Json& c) {
  gqa::ChatTemplateInput input;
  input.add_generation_prompt = c.value("add_generation_prompt", true);
  input.bos_token = c.value("bos_token", "");
  input.eos_token = c.value("eos_token", "");
  if (c.contains("extra") && c["extra"].is_object()) input.extra_context = c["extra"];
  const Json messages = c.value("messages", Json::array());
  if (PlainMessages(messages)) {
    for (const Json& m : messages) {
      input.messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
  } else {
    input.extra_context["messages"] = messages;
  }
  absl::StatusOr<std::string> out = tmpl.Render(input);
  Json r = Json::object();
  if (out.ok()) {
    r["text"] = *out;
  } else {
    r["error"] = std::string(out.status().message());
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: gqa-chat-render INPUT.json\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  Json input = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (!in || input.is_discarded()) {
    std::cerr << "cannot read JSON from " << argv[1] << "\n";
    return 2;
  }
  Json output = Json::object();
  for (const Json& t : input.value("templates", Json::array())) {
    Json entry = Json::object();
    absl::StatusOr<gqa::ChatTemplate> tmpl = gqa::ChatTemplate::Parse(t.value("source", ""));
    if (!tmpl.ok()) {
      entry["parse_error"] = std::string(tmpl.status().message());
    } else {
      Json results = Json::array();
      for (const Json& c : t.value("cases", Json::array())) results.push_back(RenderCase(*tmpl, c));
      entry["results"] = std::move(results);
    }
    output[t.value("name", "")] = std::move(entry);
  }
  std::cout << output.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  return 0;
}
