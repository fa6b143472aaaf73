#include "engine/serving/text_stream.h"

#include <algorithm>

namespace gqa {

TextStream::TextStream(const Tokenizer* tokenizer, std::span<const int32_t> prompt_token_ids,
                       TextStreamOptions options)
    : stops_(options.stop), options_(std::move(options)) {
  if (tokenizer) {
    const std::vector<int> prompt(prompt_token_ids.begin(), prompt_token_ids.end());
    decoder_.emplace(*tokenizer, prompt);
  }
}

TextStream::Piece TextStream::Push(std::span<const TokenOutput> tokens) {
  Piece piece;
  for (const TokenOutput& t : tokens) {
    if (stopped_) break;
    ++num_tokens_;
    ++piece.num_tokens;
    if (!decoder_) continue;
    text_ += decoder_->Push(t.token_id);
    if (!stops_.empty() && num_tokens_ >= options_.min_tokens) {
      if (auto m = stops_.FindNew(text_, searched_)) {
        // Held-back text covers any stop string start, so the cut is never
        // inside text already sent; max() only guards that invariant.
        text_.resize(
            std::max(sent_, m->pos + (options_.include_stop_str_in_output ? m->length : 0)));
        stopped_ = true;
        piece.stopped = true;
      }
    }
    searched_ = text_.size();
  }
  size_t end = text_.size();
  if (!stopped_ && !stops_.empty()) end = std::max(sent_, end - stops_.HoldBack(text_));
  piece.text = text_.substr(sent_, end - sent_);
  sent_ = end;
  return piece;
}

std::string TextStream::Finish() {
  if (!stopped_ && decoder_) text_ += decoder_->Flush();
  std::string rest = text_.substr(sent_);
  sent_ = text_.size();
  return rest;
}

}  // namespace gqa
