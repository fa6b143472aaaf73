// The tokenizer.json a GGUF vocabulary stands for, built in code for
// HfTokenizer (so a GGUF tokenizer runs the same BPE, pre-tokenizers, added
// tokens and decoders as an HF one):
//
//   gpt2 (byte-level BPE): the vocabulary and merges as they are; normalizer,
//     pre-tokenizer and ignore_merges by tokenizer.ggml.pre
//     (gguf_pre_tokenizers.h); ByteLevel decoder.
//   llama (SentencePiece): merges from the scores (spm_merges.h); normalizer
//     [Prepend "▁" when add_space_prefix (default true), Replace " " -> "▁"],
//     no pre-tokenizer, unk token, fuse_unk, byte_fallback over the <0xNN>
//     tokens; decoder [Replace "▁" -> " ", ByteFallback, Fuse, Strip one
//     leading space when add_space_prefix]: transformers' LlamaConverter.
//
// Token types: control (3) and unknown (2) tokens become special added
// tokens, user-defined (4) ones non-special added tokens, all matched in the
// raw text (normalized false), so a chat template's <|im_start|> is one id
// as in HF (llama.cpp matches control tokens only with parse_special).
// Decode with skip_special_tokens drops the special ones. Normal, unused and
// byte tokens are plain vocabulary.
//
// BOS is added by add_special_tokens when tokenizer.ggml.add_bos_token says
// so (absent: true for "llama" and the Llama 3 pre-tokenizer, false
// otherwise, as llama.cpp), EOS when add_eos_token does (absent: false).
// eos_ids are the end-of-generation set of gguf_special_tokens.h.
//
// Thread ownership: a free function returning fresh values.
#pragma once

#include "absl/status/statusor.h"
#include "engine/tokenizer/gguf/gguf_vocab.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "engine/tokenizer/hf/tokenizer_json_reader.h"

namespace gqa {

struct GgufTokenizerJson {
  hf::RawTokenizerJson json;  // its post_processor is left null: see specials
  HfSpecialTokens specials;
};

absl::StatusOr<GgufTokenizerJson> BuildGgufTokenizerJson(GgufVocab vocab);

}  // namespace gqa
