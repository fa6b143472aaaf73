// BPE merges for a SentencePiece vocabulary that has scores but no merges
// (GGUF tokenizer.ggml.model = "llama"), built the way transformers'
// LlamaConverter builds tokenizer.json (SentencePieceExtractor): every split
// of a piece into two pieces of the vocabulary, at a character boundary, is a
// merge; a piece's splits are ordered by (left id, right id); pieces go in id
// order, then a stable sort by the merged piece's score, highest first. HF's
// BPE (lowest rank first) over these merges then does what SentencePiece's
// and llama.cpp's SPM tokenizers do: merge the highest-scoring pair first.
//
// Thread ownership: a free function on caller-owned data.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gqa {

// `tokens` and `scores` are indexed by id and of one length.
std::vector<std::pair<std::string, std::string>> SpmMergesFromScores(
    const std::vector<std::string>& tokens, const std::vector<float>& scores);

}  // namespace gqa
