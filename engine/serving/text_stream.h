// TextStream: one request's generated tokens -> the text a client sees:
// incremental detokenization (IncrementalDecoder: UTF-8 safe deltas) plus
// stop strings (StopStrings). It runs on the request's consumer side (the
// gRPC reactor), never on the engine thread: the engine deals in token ids.
//
// When a stop string completes, the text is cut before it (or after it with
// include_stop_str_in_output), the token that completed it is the last one
// accepted, and the caller should Abort the request (the engine may already
// have produced a few more tokens; they are ignored). As in vLLM, stop strings
// are not looked for before min_tokens tokens were generated.
//
// Invariant: the concatenation of every Push(...).text and Finish() is the
// final text; each piece is valid UTF-8.
//
// Thread ownership: one per request, used by one thread at a time. The
// tokenizer (may be null: no text at all) must outlive it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/scheduler/request.h"
#include "engine/serving/stop_strings.h"
#include "engine/tokenizer/incremental_decoder.h"

namespace gqa {

struct TextStreamOptions {
  std::vector<std::string> stop;
  bool include_stop_str_in_output = false;
  int min_tokens = 0;
};

class TextStream {
 public:
  TextStream(const Tokenizer* tokenizer, std::span<const int32_t> prompt_token_ids,
             TextStreamOptions options);

  struct Piece {
    std::string text;      // safe to send now
    int num_tokens = 0;    // tokens of the pushed span accepted (all, unless a stop string hit)
    bool stopped = false;  // a stop string completed in this piece
  };
  // Appends output tokens, in order. After a stop string nothing is accepted.
  Piece Push(std::span<const TokenOutput> tokens);
  // Ends the stream: the text held back so far.
  std::string Finish();

  bool stopped() const { return stopped_; }
  int num_tokens() const { return num_tokens_; }

 private:
  std::optional<IncrementalDecoder> decoder_;
  StopStrings stops_;
  TextStreamOptions options_;
  std::string text_;     // the output text so far (cut at a stop string)
  size_t sent_ = 0;      // bytes of text_ already returned
  size_t searched_ = 0;  // bytes of text_ already searched for stop strings
  int num_tokens_ = 0;
  bool stopped_ = false;
};

}  // namespace gqa
