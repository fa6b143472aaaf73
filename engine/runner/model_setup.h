// SetUpModel: resolves what the tools were asked to serve into weights, a
// tokenizer and a chat template: an HF directory, a GGUF file, a llama2.c .bin
// (+ tokenizer.bin), dummy weights of a preset shape (with the tokenizer and
// chat template of the HF directory or GGUF file named, if any), or, when
// nothing is named, the built-in demo model (a tiny GQA model with seeded
// random weights and a byte vocabulary).
//
// End of generation: the tokenizer's end tokens (EOS, and end-of-turn tokens
// such as <|im_end|> or <|eot_id|>) are added to the config's eos_token_ids,
// so a chat reply ends by itself.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/model/model_weights.h"
#include "engine/runner/chat_setup.h"
#include "engine/tokenizer/tokenizer.h"

namespace gqa {

struct ModelSetupOptions {
  std::string model;      // HF dir, GGUF, llama2.c .bin, or (dummy) a config.json; empty: demo
  std::string tokenizer;  // llama2.c tokenizer.bin, tokenizer.json or HF dir; empty: the model's
  std::string load_format = "auto";  // "auto" | "dummy"
  std::string preset;                // dummy: preset name
  std::string dtype = "f32";         // dummy: weight dtype
  uint64_t seed = 0;                 // dummy: weight seed
  std::string chat_template;         // a Jinja2 file or an HF dir; empty: the model's own
  // GGUF block-quantized tensors stay as the file stores them
  // (ModelSource::gguf_keep_quantized): the tools hand the weights to a
  // backend, which keeps what it computes from and converts the rest
  // (device_weights.h), so --dtype decides, not the loader.
  bool keep_quantized = true;
};

struct LoadedModel {
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;              // null when none could be found
  std::unique_ptr<ModelChatTemplate> chat_template;  // null when the model has none
  std::string description;                           // one line for logs
  bool is_demo = false;
};

// Loads the model; writes a line about what was loaded to `log`.
absl::StatusOr<LoadedModel> SetUpModel(const ModelSetupOptions& options, std::ostream& log);

// "tiny, demo, stories15m, ..." for help texts.
std::string PresetList();

}  // namespace gqa
