// The "jsonl" dataset of gqa-bench: one JSON object per line,
//
//   {"prompt": "Once upon a time", "output_len": 64}
//   {"prompt_token_ids": [1, 415, 2936], "output_len": 16}
//
// exactly one of "prompt" (text, tokenized by the server) and
// "prompt_token_ids" (ids in [0, vocab_size), checked against the model
// later); "output_len" (tokens, >= 1) is optional. Blank lines are skipped;
// other keys are ignored. Errors name the file and line.
//
// Thread ownership: pure functions.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::loadgen {

struct DatasetEntry {
  std::string prompt;                     // text; empty when prompt_token_ids is set
  std::vector<int32_t> prompt_token_ids;  // empty when prompt is set
  int output_len = 0;                     // tokens; 0: not given (use --output-len)
  int line = 0;                           // 1-based line in the file, for messages
  bool has_token_ids() const { return !prompt_token_ids.empty(); }
};

// `source` names the input in messages, e.g. the file path. INVALID_ARGUMENT
// ("FILE:LINE: ...") on the first bad line, or when there is no entry at all.
absl::StatusOr<std::vector<DatasetEntry>> ParseJsonlDataset(std::istream& in,
                                                            const std::string& source);

// NOT_FOUND when the file cannot be opened; otherwise as ParseJsonlDataset.
absl::StatusOr<std::vector<DatasetEntry>> LoadJsonlDataset(const std::string& path);

}  // namespace gqa::loadgen
