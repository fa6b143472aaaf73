#include "engine/tokenizer/incremental_decoder.h"

#include <algorithm>
#include <string_view>

#include "engine/tokenizer/utf8.h"

namespace gqa {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                                       bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {
  const std::size_t context = std::min(prompt_ids.size(), kPromptContextTokens);
  ids_.assign(prompt_ids.end() - context, prompt_ids.end());
  read_offset_ = ids_.size();
}

std::string IncrementalDecoder::DecodeUnsent() const {
  const std::span<const int> window(ids_);
  const std::string sent = tokenizer_.Decode(window.first(read_offset_), skip_special_tokens_);
  std::string text = tokenizer_.Decode(window, skip_special_tokens_);
  // For the decoders we serve, `text` starts with `sent`. If a decoder rewrote
  // earlier text, we can't take it back: stream what lies past the old length.
  const std::size_t start = std::min(text.size(), sent.size() + sent_past_read_);
  return text.substr(start);
}

void IncrementalDecoder::Advance(std::size_t unsent_bytes) {
  // The new window starts at the old read offset: one or more already-sent
  // tokens stay as context for the next Push. Context that decodes to nothing
  // (a special token that skip_special_tokens drops) is no context: a
  // SentencePiece decoder would strip the next piece's leading space as if it
  // opened the text. Then the window keeps its older tokens too, up to a cap
  // so that a long run of such tokens stays O(window) per Push.
  const bool context_has_text = sent_past_read_ + unsent_bytes > 0;
  if (context_has_text || ids_.size() > kMaxWindowTokens) {
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(read_offset_));
  }
  read_offset_ = ids_.size();
  sent_past_read_ = 0;
  held_bytes_ = 0;
}

std::string IncrementalDecoder::Push(int token_id) {
  ids_.push_back(token_id);
  const std::string unsent = DecodeUnsent();
  // `unsent` starts where a character starts (the previous cut was before an
  // incomplete tail or at a window end with none), so a cut before its own
  // incomplete tail leaves whole characters and ill-formed bytes that no later
  // byte can repair: replacing those now gives what replacing the whole would.
  const std::size_t tail = Utf8IncompleteTailLength(unsent);
  const std::size_t ready = unsent.size() - tail;
  std::string delta = Utf8ReplaceInvalid(std::string_view(unsent).substr(0, ready));
  if (tail == 0) {
    Advance(unsent.size());
  } else {
    sent_past_read_ += ready;
    held_bytes_ = tail;
  }
  return delta;
}

std::string IncrementalDecoder::Flush() {
  const std::string unsent = DecodeUnsent();
  std::string rest = Utf8ReplaceInvalid(unsent);
  Advance(unsent.size());
  return rest;
}

}  // namespace gqa
