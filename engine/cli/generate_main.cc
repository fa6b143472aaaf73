// gqa-generate: one prompt in, generated text (or token ids) out. See
// generate_command.h; `gqa-generate --help` lists the flags.
#include <iostream>

#include "engine/cli/generate_command.h"

int main(int argc, char** argv) {
  absl::StatusOr<gqa::GenerateOptions> options = gqa::ParseGenerateArgs(argc, argv);
  if (!options.ok()) {
    std::cerr << "gqa-generate: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << options->help_text;
    return 0;
  }
  return gqa::RunGenerate(*options, std::cout, std::cerr);
}
