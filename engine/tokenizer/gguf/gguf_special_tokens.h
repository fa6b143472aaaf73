// End-of-generation tokens of a GGUF vocabulary, as llama.cpp's loader finds
// them (llama-vocab.cpp, special_eog_ids): the metadata's EOS, EOT, EOM and
// FIM pad/repo/separator ids, plus tokens found by their text when the
// metadata names none (GGUF converters often leave these keys out):
//   end of turn: <|eot_id|> <|im_end|> <|end|> <end_of_turn> <|endoftext|>
//                <|end_of_text|> <|eom_id|> <EOT> _<EOT> <end_of_utterance>
//                <|END_OF_TURN_TOKEN|> <｜end▁of▁sentence｜>
//   FIM (Qwen / CodeLlama style): <|fim_pad|> <fim-pad> <|fim_repo|>
//                <|repo_name|> <fim-repo> <REPO> <|file_sep|>
// As in llama.cpp, a token found by its text becomes a control token when
// its type said otherwise. Left out on purpose: Granite's <fim_pad> and
// <reponame>, which StarCoder-style vocabularies (SmolLM2) use as data-format
// markers, not as ends of turn, and the o200k "harmony" tokens.
//
// Thread ownership: free functions on caller-owned data.
#pragma once

#include <vector>

#include "engine/tokenizer/gguf/gguf_vocab.h"

namespace gqa {

// Fills vocab->eot_id / eom_id / fim_*_id from token texts where unset, marks
// the end-of-generation tokens as control tokens, and returns the set: EOS
// first, then the others by id. SmolLM2: {2 <|im_end|>, 0 <|endoftext|>}.
std::vector<int> ResolveEndOfGeneration(GgufVocab* vocab);

}  // namespace gqa
