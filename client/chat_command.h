// gqa-client chat: a conversation with the model through GenerateRequest.chat
// (the server renders it with the model's chat template).
//   one-shot:    --message TEXT [--system TEXT]  prints the reply as it streams
//   piped:       no --message, stdin not a terminal: stdin is the message
//   interactive: no --message, stdin a terminal: a "> " prompt; each line is a
//                user turn, the streamed reply is kept in the history; an empty
//                line is skipped, /exit or end of input (Ctrl-D) ends it
#pragma once

#include <iosfwd>
#include <string>

#include "client/generation_client.h"
#include "gqa/v1/generation.pb.h"

namespace gqa {

struct ChatOptions {
  std::string system;        // the system message; empty: none (the template's default)
  std::string message;       // one-shot user message; empty: read stdin
  bool interactive = false;  // read turns from `in` with a prompt (stdin is a terminal)
};

// `request_template` carries the sampling and stopping flags; its input is
// replaced by the conversation. Replies go to `out`, the usage summary and
// errors to `err`. Returns 0, or 1 when a call failed.
int RunChat(const ChatOptions& chat, const v1::GenerateRequest& request_template,
            double deadline_seconds, GenerationClient& client, std::istream& in, std::ostream& out,
            std::ostream& err);

}  // namespace gqa
