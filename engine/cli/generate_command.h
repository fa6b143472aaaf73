// gqa-generate: load a model (or the built-in demo model), encode a prompt,
// generate with the engine and stream the text (or print the token ids).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/runner/backend_setup.h"
#include "engine/sampling/sampling_params.h"

namespace gqa {

struct GenerateOptions {
  std::string model;          // HF directory, GGUF or llama2.c .bin; empty: the built-in demo model
  std::string tokenizer;      // llama2.c tokenizer.bin, tokenizer.json or an HF directory
  std::string chat_template;  // a Jinja2 file or HF directory; empty: the model's
  std::optional<std::string> prompt;
  std::optional<std::string> prompt_ids;  // "1,2,3"
  std::optional<std::string> chat;        // a user message, rendered with the chat template
  int max_tokens = 128;
  SamplingParams sampling;
  bool ignore_eos = false;
  bool print_ids = false;  // print the generated ids, space-separated, on one line
  // --enable-prefix-caching (default) / --no-enable-prefix-caching. One
  // request shares no prefix with another, so it changes nothing but the
  // engine's bookkeeping; there for parity with gqa-server.
  bool enable_prefix_caching = true;
  std::string load_format = "auto";  // "auto" or "dummy"
  std::string preset;                // dummy weights: a preset name (or --model config.json)
  // --backend, --dtype (compute dtype on CUDA, and the dummy weights'),
  // --threads, --device.
  BackendSetupOptions backend;
  uint64_t weight_seed = 0;  // dummy weights' seed
  bool help = false;
  std::string help_text;
};

// Parses argv; INVALID_ARGUMENT names the offending flag.
absl::StatusOr<GenerateOptions> ParseGenerateArgs(int argc, const char* const* argv);

// Runs one generation, writing text or ids to `out` and notes and errors to
// `err`. Returns the process exit code (0 on success).
int RunGenerate(const GenerateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace gqa
