// gqa-client's command line: `gqa-client [--server host:port] [--deadline S]
// COMMAND [flags]` with COMMAND one of generate, stream, chat, tokenize, info,
// health, abort, load, and the code that runs it over a GenerationClient.
#pragma once

#include <iosfwd>
#include <string>

#include "absl/status/statusor.h"
#include "client/channel_security.h"
#include "client/chat_command.h"
#include "client/generation_client.h"
#include "gqa/v1/generation.pb.h"

namespace gqa {

struct ClientOptions {
  std::string server = "localhost:50051";
  ChannelSecurityOptions security;  // --tls*, --api-key-file
  double deadline_seconds = 0;  // <= 0: none
  // "generate" | "stream" | "chat" | "tokenize" | "info" | "health" | "abort" | "load"
  std::string command;
  v1::GenerateRequest request;  // generate, stream, chat (sampling and stopping)
  ChatOptions chat;             // chat (interactive: set by main from isatty(stdin))
  v1::TokenizeRequest tokenize;
  std::string health_service;  // health: "" is the whole server
  v1::AbortRequest abort;      // abort: the ids given after the command
  bool print_ids = false;      // print token ids instead of text
  bool help = false;
  std::string help_text;
};

// INVALID_ARGUMENT names the offending flag or command.
absl::StatusOr<ClientOptions> ParseClientArgs(int argc, const char* const* argv);

// Runs the command: results to `out`, summaries (finish reason, usage,
// logprobs) and errors to `err`. Returns the exit code: 0 OK, 1 the RPC failed
// (health: 0 only when the server reports SERVING, 1 otherwise).
// `in` is read by chat only (piped message or interactive turns).
int RunClientCommand(const ClientOptions& options, GenerationClient& client, std::istream& in,
                     std::ostream& out, std::ostream& err);

}  // namespace gqa
