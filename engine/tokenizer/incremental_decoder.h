// IncrementalDecoder: turns a request's generated token ids into a stream of
// UTF-8 text deltas, one Push per token.
//
// What it streams. With prompt ids P, output ids O (pushed so far) and
// D = tokenizer.Decode(..., skip_special_tokens):
//     expected(O) = Utf8ReplaceInvalid(D(P ++ O) without its first |D(P)| bytes)
// i.e. the output's bytes as they read after the prompt (llama2.c: a first
// output piece right after a BOS-ending prompt loses its leading space; after
// ordinary prompt text it keeps it), with every ill-formed UTF-8 stretch
// replaced by U+FFFD (Utf8ReplaceInvalid in utf8.h: maximal subparts). We
// replace rather than pass raw bytes because deltas go into protobuf `string`
// fields, which must be valid UTF-8.
//
// Invariant: Push(O[0]) + ... + Push(O[n-1]) + Flush() == expected(O), and
// every delta is well-formed UTF-8. A delta never ends inside a character:
// while the text ends in a sequence more bytes could still complete, those
// bytes are held back; they are emitted once completed, as U+FFFD once a byte
// shows they never will be, or as U+FFFD by Flush at the end of the stream.
//
// How (vLLM / TGI's prefix_offset / read_offset window): each Push decodes only
// a short window ids[prefix_offset:] and emits what it adds beyond
// Decode(ids[prefix_offset:read_offset]), the text already sent. The window
// starts at least one token before the new ones (initially up to 5 prompt
// tokens, and never only tokens that decode to nothing) so context rules such
// as the strip-after-BOS see the same neighbours as a full decode. Cost per
// Push: O(window), not O(sequence).
// This is exact for tokenizers whose Decode only depends on a bounded number of
// preceding tokens and only appends bytes as ids are appended (llama2.c, byte,
// SentencePiece-style and byte-level BPE decoders) on well-formed text. A Decode
// that rewrites earlier text is streamed as vLLM does (suffix after the
// previous length): HF's ByteFallback does, on a run of byte tokens that is
// ill-formed UTF-8 as a whole (<0x00> streams "\0", <0x00><0xF7> decodes to two
// U+FFFD), so there the streamed text is valid UTF-8 but may differ from the
// full decode (fuzz/regressions/text_stream holds two such inputs).
//
// Thread ownership: one per request, used by one thread at a time. The
// tokenizer is not owned and must outlive the decoder.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace gqa {

class IncrementalDecoder {
 public:
  // Prompt tokens of context kept for the first outputs (vLLM uses 5 as well).
  static constexpr std::size_t kPromptContextTokens = 5;
  // The window grows past its context only over tokens that decode to no
  // text (skipped special tokens); beyond this many it slides regardless.
  static constexpr std::size_t kMaxWindowTokens = 64;

  IncrementalDecoder(const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                     bool skip_special_tokens = true);

  // Appends one output token; returns the text it completes (may be empty).
  std::string Push(int token_id);

  // Ends the stream: returns the held-back bytes (as U+FFFD; they are an
  // incomplete sequence by construction), "" when nothing is held. A later
  // Push starts afresh after the flushed text.
  std::string Flush();

  // Bytes decoded but not yet emitted (an incomplete UTF-8 tail), for tests.
  std::size_t num_held_bytes() const { return held_bytes_; }
  // Token ids the next Push decodes besides its own, for tests.
  std::size_t num_window_tokens() const { return ids_.size(); }

 private:
  // The window's new text beyond what was sent from read_offset_ on.
  std::string DecodeUnsent() const;
  // All of ids_ sent, the last `unsent_bytes` of them just now: read_offset_
  // = end, and the window slides to start at the old read offset when the
  // tokens from there on produced text.
  void Advance(std::size_t unsent_bytes);

  const Tokenizer& tokenizer_;
  const bool skip_special_tokens_;
  std::vector<int> ids_;            // the window: ids from prefix_offset on (offset 0 here)
  std::size_t read_offset_;         // ids_[0:read_offset_] decode to text already sent
  std::size_t sent_past_read_ = 0;  // bytes of Decode(ids_) beyond that, also sent
  std::size_t held_bytes_ = 0;      // bytes beyond that, held back
};

}  // namespace gqa
