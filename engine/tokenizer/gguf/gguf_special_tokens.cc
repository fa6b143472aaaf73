#include "engine/tokenizer/gguf/gguf_special_tokens.h"

#include <algorithm>
#include <set>
#include <span>
#include <string_view>

namespace gqa {
namespace {

constexpr std::string_view kEndOfTurn[] = {"<|eot_id|>",
                                           "<|im_end|>",
                                           "<|end|>",
                                           "<end_of_turn>",
                                           "<|endoftext|>",
                                           "<|end_of_text|>",
                                           "<|eom_id|>",
                                           "<EOT>",
                                           "_<EOT>",
                                           "<end_of_utterance>",
                                           "<|END_OF_TURN_TOKEN|>",
                                           "<\xEF\xBD\x9C"
                                           "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};
constexpr std::string_view kEom[] = {"<|eom_id|>"};
constexpr std::string_view kFimPad[] = {"<|fim_pad|>", "<fim-pad>"};
constexpr std::string_view kFimRep[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"};
constexpr std::string_view kFimSep[] = {"<|file_sep|>"};

bool TextIn(std::string_view text, std::span<const std::string_view> set) {
  return std::find(set.begin(), set.end(), text) != set.end();
}

// When *id is unset, the lowest id whose text is in `set` (marked control).
void FindByText(GgufVocab* vocab, std::span<const std::string_view> set, int* id) {
  if (*id >= 0) return;
  for (size_t i = 0; i < vocab->tokens.size(); ++i) {
    if (TextIn(vocab->tokens[i], set)) {
      *id = static_cast<int>(i);
      vocab->types[i] = GgufTokenType::kControl;
      return;
    }
  }
}

}  // namespace

std::vector<int> ResolveEndOfGeneration(GgufVocab* vocab) {
  FindByText(vocab, kEndOfTurn, &vocab->eot_id);
  FindByText(vocab, kEom, &vocab->eom_id);
  FindByText(vocab, kFimPad, &vocab->fim_pad_id);
  FindByText(vocab, kFimRep, &vocab->fim_rep_id);
  FindByText(vocab, kFimSep, &vocab->fim_sep_id);
  std::set<int> eog;
  for (const int id :
       {vocab->eot_id, vocab->eom_id, vocab->fim_pad_id, vocab->fim_rep_id, vocab->fim_sep_id}) {
    if (id >= 0) eog.insert(id);
  }
  for (size_t i = 0; i < vocab->tokens.size(); ++i) {
    if (TextIn(vocab->tokens[i], kEndOfTurn)) {
      eog.insert(static_cast<int>(i));
      vocab->types[i] = GgufTokenType::kControl;
    }
  }
  std::vector<int> ids;
  if (vocab->eos_id >= 0) {
    ids.push_back(vocab->eos_id);
    eog.erase(vocab->eos_id);
  }
  ids.insert(ids.end(), eog.begin(), eog.end());
  return ids;
}

}  // namespace gqa
