// The incremental decoder and stop strings (TextStream) on arbitrary token
// ids. Input: byte 0 picks the tokenizer (FuzzTokenizers), byte 1 the
// options (include_stop_str_in_output, min_tokens, chunking), then up to 3
// length-prefixed stop strings, a length-prefixed prompt text, and the rest as
// up to 64 16-bit output ids (mostly inside the vocabulary, some past it).
// Checked: every piece is well-formed UTF-8; without stop strings, and where
// Decode is append-only and local (see below), the pieces add up to IncrementalDecoder's documented
// result, Utf8ReplaceInvalid(D(P ++ O) minus its first |D(P)| bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/serving/text_stream.h"
#include "engine/tokenizer/utf8.h"
#include "fuzz/support/fuzz_input.h"
#include "fuzz/support/fuzz_tokenizers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& tokenizers = gqa::fuzz::FuzzTokenizers();
  gqa::fuzz::FuzzInput in(data, size);
  const gqa::Tokenizer& t = *tokenizers[in.Byte() % tokenizers.size()].tokenizer;
  const uint8_t flags = in.Byte();

  gqa::TextStreamOptions options;
  options.include_stop_str_in_output = (flags & 1) != 0;
  options.min_tokens = (flags >> 1) & 3;
  const size_t chunk = 1 + ((flags >> 3) & 3);  // tokens per Push, as the engine batches them
  const int num_stops = (flags >> 5) & 3;
  for (int i = 0; i < num_stops; ++i) {
    std::string stop(in.Piece(8));
    if (!stop.empty() && gqa::IsWellFormedUtf8(stop)) options.stop.push_back(std::move(stop));
  }
  const std::vector<int> prompt_ids = t.Encode(in.Piece(32), /*add_special_tokens=*/true);
  const std::vector<int32_t> prompt(prompt_ids.begin(), prompt_ids.end());

  std::vector<gqa::TokenOutput> outputs;
  const int span = t.vocab_size() + 8;  // a few ids past the vocabulary
  while (in.remaining() >= 2 && outputs.size() < 64) {
    gqa::TokenOutput o;
    o.token_id = in.U16() % span;
    outputs.push_back(o);
  }
  const bool check_sum = options.stop.empty();

  gqa::TextStream stream(&t, prompt, options);
  std::string text;
  for (size_t i = 0; i < outputs.size() && !stream.stopped(); i += chunk) {
    const size_t n = std::min(chunk, outputs.size() - i);
    gqa::TextStream::Piece piece = stream.Push({outputs.data() + i, n});
    if (!gqa::IsWellFormedUtf8(piece.text)) __builtin_trap();
    text += piece.text;
  }
  const std::string tail = stream.Finish();
  if (!gqa::IsWellFormedUtf8(tail)) __builtin_trap();
  text += tail;

  if (check_sum) {
    // IncrementalDecoder is exact where Decode only appends as ids are
    // appended, and only looks a bounded number of tokens back
    // (incremental_decoder.h). HF's ByteFallback is neither on a run of byte
    // tokens that is ill-formed as a whole: the whole run becomes one U+FFFD
    // per byte, so a later byte can rewrite text already streamed ("\0" or a
    // complete emoji inside the run), which is streamed as vLLM does
    // (regressions/text_stream/byte-fallback-*). So the sum is checked where
    // every prefix's decode extends the previous one and the decode holds no
    // U+FFFD of its own.
    std::vector<int> ids = prompt_ids;
    std::string previous = t.Decode(ids);
    const std::string prompt_text = previous;
    bool append_only = true;
    for (const gqa::TokenOutput& o : outputs) {
      ids.push_back(o.token_id);
      std::string next = t.Decode(ids);
      append_only = append_only && next.compare(0, previous.size(), previous) == 0;
      previous = std::move(next);
    }
    const bool replaced = previous.find("\xef\xbf\xbd") != std::string::npos;
    if (append_only && !replaced &&
        text != gqa::Utf8ReplaceInvalid(previous.substr(prompt_text.size()))) {
      __builtin_trap();
    }
  }
  return 0;
}
