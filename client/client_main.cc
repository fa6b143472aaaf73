// gqa-client: talks to gqa-server over gRPC. `gqa-client --help` lists the
// commands and flags; see client_command.h.
#include <unistd.h>

#include <iostream>

#include "client/client_command.h"

int main(int argc, char** argv) {
  absl::StatusOr<gqa::ClientOptions> options = gqa::ParseClientArgs(argc, argv);
  if (!options.ok()) {
    std::cerr << "gqa-client: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << options->help_text;
    return 0;
  }
  // chat without --message: a conversation at a terminal, else the piped message.
  options->chat.interactive = options->chat.message.empty() && isatty(STDIN_FILENO);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      gqa::MakeChannel(options->server, options->security);
  if (!channel.ok()) {
    std::cerr << "gqa-client: " << channel.status().message() << "\n";
    return 2;
  }
  gqa::GenerationClient client(*std::move(channel));
  return gqa::RunClientCommand(*options, client, std::cin, std::cout, std::cerr);
}
