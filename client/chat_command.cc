#include "client/chat_command.h"

#include <istream>
#include <iterator>
#include <ostream>

#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace gqa {
namespace {

void AddMessage(v1::Chat* chat, std::string role, std::string content) {
  v1::ChatMessage* m = chat->add_messages();
  m->set_role(std::move(role));
  m->set_content(std::move(content));
}

// Streams the reply to the conversation in `request` to `out`; appends it to
// the conversation as the assistant's turn. False when the call failed.
bool StreamReply(v1::GenerateRequest* request, double deadline_seconds, GenerationClient& client,
                 std::ostream& out, std::ostream& err) {
  std::string reply;
  v1::GenerateResponse last;
  const grpc::Status s = client.GenerateStream(
      *request,
      [&](const v1::GenerateResponse& r) {
        out << r.text() << std::flush;
        reply += r.text();
        last = r;
      },
      deadline_seconds);
  out << "\n";
  if (!s.ok()) {
    err << "gqa-client: " << StatusText(s) << "\n";
    return false;
  }
  const v1::Usage& u = last.usage();
  err << absl::StrFormat(
      "[finish: %s; %d prompt + %d generated tokens, first token %.0f ms, total %.0f ms]\n",
      FinishReasonName(last.finish_reason()), u.prompt_tokens(), u.completion_tokens(),
      u.time_to_first_token_seconds() * 1e3, u.e2e_seconds() * 1e3);
  AddMessage(request->mutable_chat(), "assistant", std::move(reply));
  return true;
}

}  // namespace

int RunChat(const ChatOptions& o, const v1::GenerateRequest& request_template,
            double deadline_seconds, GenerationClient& client, std::istream& in, std::ostream& out,
            std::ostream& err) {
  v1::GenerateRequest request = request_template;
  v1::Chat* chat = request.mutable_chat();  // replaces prompt / prompt_token_ids
  if (!o.system.empty()) AddMessage(chat, "system", o.system);
  if (!o.interactive) {
    std::string message = o.message;
    if (message.empty()) {
      message.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      message = std::string(absl::StripTrailingAsciiWhitespace(message));
    }
    if (message.empty()) {
      err << "gqa-client: chat: no message (give --message TEXT, or pipe it on stdin)\n";
      return 1;
    }
    AddMessage(chat, "user", std::move(message));
    return StreamReply(&request, deadline_seconds, client, out, err) ? 0 : 1;
  }
  err << "chat with the model: a line is a turn; /exit or Ctrl-D ends\n";
  std::string line;
  while (out << "> " << std::flush, std::getline(in, line)) {
    if (line == "/exit") break;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    AddMessage(chat, "user", line);
    if (!StreamReply(&request, deadline_seconds, client, out, err)) {
      chat->mutable_messages()->RemoveLast();  // the turn got no reply: forget it
    }
  }
  out << "\n";
  return 0;
}

}  // namespace gqa
