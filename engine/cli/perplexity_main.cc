// gqa-perplexity: perplexity of a text file under a model (see
// perplexity_command.h; `gqa-perplexity --help` lists the flags).
#include <iostream>

#include "engine/cli/perplexity_command.h"

int main(int argc, char** argv) {
  absl::StatusOr<gqa::PerplexityOptions> options = gqa::ParsePerplexityArgs(argc, argv);
  if (!options.ok()) {
    std::cerr << "gqa-perplexity: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << options->help_text;
    return 0;
  }
  return gqa::RunPerplexity(*options, std::cout, std::cerr);
}
