// Post-processors of HF tokenizer.json ("post_processor"): add special tokens
// (BOS/EOS) around the encoded ids when add_special_tokens. Supported:
// TemplateProcessing (its "single" template), ByteLevel (offsets only: no id
// change), Sequence. We encode single sequences, never pairs.
//
// Thread ownership: immutable after construction; Process is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Rewrites the encoded `ids` of one sequence.
  virtual void Process(std::vector<int>* ids) const = 0;
};

// A template "specials_before $A specials_after" (also what transformers
// builds from add_bos_token / add_eos_token).
std::unique_ptr<PostProcessor> MakeTemplateProcessor(std::vector<int> before,
                                                     std::vector<int> after);

absl::StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const nlohmann::json& json,
                                                                     const std::string& where);

}  // namespace gqa::hf
