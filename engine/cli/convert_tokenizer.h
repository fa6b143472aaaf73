// gqa-convert's tokenizer files for an HF directory written from a GGUF: the
// tokenizer.json the GGUF vocabulary stands for (gguf_tokenizer_json.h, with
// BOS/EOS as a TemplateProcessing post-processor when the GGUF adds them),
// tokenizer_config.json (bos/eos tokens, add_bos/add_eos, the chat
// template) and generation_config.json (bos id, the end-of-generation ids),
// so the directory loads with its tokenizer in gqa-server and in HF
// transformers.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace gqa {

// Writes the three files into `dir` (which exists). Errors name the GGUF key.
absl::Status WriteHfTokenizerFromGguf(const std::string& gguf_path, const std::string& dir);

}  // namespace gqa
