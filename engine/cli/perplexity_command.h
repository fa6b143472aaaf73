// gqa-perplexity: the perplexity of a text file under a model, through the
// serving engine's prompt logprobs, chunked as llama.cpp's llama-perplexity
// (perplexity_chunks.h), the file's one trailing newline dropped as llama.cpp's
// -f drops it, so the two tools see the same tokens and their numbers compare. Prints a progress
// bar on stderr and one result line (or a JSON object) on stdout.
#pragma once

#include <iosfwd>
#include <string>

#include "absl/status/statusor.h"
#include "engine/cli/perplexity_chunks.h"
#include "engine/runner/backend_setup.h"

namespace gqa {

struct PerplexityOptions {
  std::string model;  // HF directory, GGUF or llama2.c .bin; empty: the built-in demo model
  std::string
      tokenizer;     // tokenizer.bin, tokenizer.json, HF directory or a .gguf; empty: the model's
  std::string file;  // the text
  PerplexityPlanOptions plan;
  int parallel = 4;         // chunks in flight (sequences per engine step)
  int batch_tokens = 2048;  // tokens per engine step at most
  bool json = false;
  bool quiet = false;  // no progress bar
  BackendSetupOptions backend;
  bool help = false;
  std::string help_text;
};

// Parses argv; INVALID_ARGUMENT names the offending flag.
absl::StatusOr<PerplexityOptions> ParsePerplexityArgs(int argc, const char* const* argv);

// Loads the model, tokenizes the file, scores it; the result goes to `out`,
// progress, notes and errors to `err`. Returns the process exit code.
int RunPerplexity(const PerplexityOptions& options, std::ostream& out, std::ostream& err);

}  // namespace gqa
