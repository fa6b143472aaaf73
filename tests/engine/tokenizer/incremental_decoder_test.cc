#include "engine/tokenizer/incremental_decoder.h"

#include <span>
#include <string>
#include <vector>

#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/utf8.h"
#include "gtest/gtest.h"
#include "tests/engine/tokenizer/tokenizer_test_data.h"

namespace gqa {
namespace {

using testing::EncodeCases;
using testing::kLlama2TokenizerPath;
using testing::kTok512Path;
using testing::SharedLlama2cTokenizer;

#define R "\xef\xbf\xbd"  // U+FFFD

// The header's definition of what a request streams.
std::string ExpectedStream(const Tokenizer& tok, std::span<const int> prompt,
                           std::span<const int> output, bool skip) {
  std::vector<int> all(prompt.begin(), prompt.end());
  all.insert(all.end(), output.begin(), output.end());
  const std::string full = tok.Decode(all, skip);
  const std::string prompt_text = tok.Decode(prompt, skip);
  EXPECT_EQ(full.compare(0, prompt_text.size(), prompt_text), 0) << "Decode not prefix-stable";
  return Utf8ReplaceInvalid(std::string_view(full).substr(prompt_text.size()));
}

// Streams `output` after `prompt` token by token; checks every delta and
// returns all deltas + Flush.
std::string Stream(const Tokenizer& tok, std::span<const int> prompt, std::span<const int> output,
                   bool skip) {
  IncrementalDecoder decoder(tok, prompt, skip);
  std::string text;
  for (const int id : output) {
    const std::string delta = decoder.Push(id);
    EXPECT_TRUE(IsWellFormedUtf8(delta)) << delta;
    EXPECT_LE(decoder.num_held_bytes(), 3u);
    text += delta;
  }
  const std::string rest = decoder.Flush();
  EXPECT_TRUE(IsWellFormedUtf8(rest)) << rest;
  EXPECT_EQ(decoder.num_held_bytes(), 0u);
  EXPECT_EQ(decoder.Flush(), "");
  return text + rest;
}

// For every split of `ids` into prompt + output, and both skip settings:
// streamed text == expected text.
void CheckEverySplit(const Tokenizer& tok, const std::vector<int>& ids) {
  for (const bool skip : {true, false}) {
    for (std::size_t k = 0; k <= ids.size(); ++k) {
      SCOPED_TRACE(::testing::Message() << "split " << k << " skip " << skip);
      const std::span<const int> all(ids);
      EXPECT_EQ(Stream(tok, all.first(k), all.subspan(k), skip),
                ExpectedStream(tok, all.first(k), all.subspan(k), skip));
    }
  }
}

void CheckAllCases(const Tokenizer& tok) {
  std::vector<int> everything;  // all cases back to back: BOS in mid-output
  for (const auto& c : EncodeCases()) {
    SCOPED_TRACE(c.name);
    std::vector<int> ids = tok.Encode(c.text);
    // After the BOS-only prompt the stream is exactly the text (made valid).
    const std::vector<int> bos = {tok.bos_id()};
    EXPECT_EQ(Stream(tok, bos, std::span<const int>(ids).subspan(1), true),
              Utf8ReplaceInvalid(c.text));
    ids.push_back(tok.eos_ids()[0]);
    CheckEverySplit(tok, ids);
    everything.insert(everything.end(), ids.begin(), ids.end());
  }
  CheckEverySplit(tok, everything);
}

TEST(IncrementalDecoderTest, Llama2EveryCaseEverySplit) {
  const Llama2cTokenizer* tok = SharedLlama2cTokenizer(kLlama2TokenizerPath);
  if (tok == nullptr) GTEST_SKIP() << "../shared/models absent";
  CheckAllCases(*tok);
}

TEST(IncrementalDecoderTest, Tok512EveryCaseEverySplit) {
  const Llama2cTokenizer* tok = SharedLlama2cTokenizer(kTok512Path);
  if (tok == nullptr) GTEST_SKIP() << "../shared/models absent";
  CheckAllCases(*tok);
}

TEST(IncrementalDecoderTest, ByteTokenizerEveryCaseEverySplit) {
  ByteTokenizer tok;
  CheckAllCases(tok);
}

TEST(IncrementalDecoderTest, HoldsBackIncompleteCharacters) {
  ByteTokenizer tok;
  const std::vector<int> bos = {1};
  IncrementalDecoder d(tok, bos);
  EXPECT_EQ(d.Push(3 + 'a'), "a");
  EXPECT_EQ(d.Push(3 + 0xe4), "");
  EXPECT_EQ(d.num_held_bytes(), 1u);
  EXPECT_EQ(d.Push(3 + 0xbd), "");
  EXPECT_EQ(d.num_held_bytes(), 2u);
  EXPECT_EQ(d.Push(3 + 0xa0), "\xe4\xbd\xa0");
  EXPECT_EQ(d.num_held_bytes(), 0u);
  EXPECT_EQ(d.Push(2), "");  // EOS, skipped
  // A byte that shows the sequence can't complete releases it as U+FFFD.
  EXPECT_EQ(d.Push(3 + 0xf0), "");
  EXPECT_EQ(d.Push(3 + 0x9f), "");
  EXPECT_EQ(d.Push(3 + 'b'), R "b");
  EXPECT_EQ(d.Push(3 + 0x80), R);  // a lone continuation byte can't complete: not held
  EXPECT_EQ(d.Push(3 + 0xc3), "");
  EXPECT_EQ(d.Flush(), R);  // end of stream: held bytes as U+FFFD
  EXPECT_EQ(d.Flush(), "");
  // A Push after Flush starts afresh after the flushed text.
  EXPECT_EQ(d.Push(3 + 0xa9), R);
  EXPECT_EQ(d.Push(3 + 'c'), "c");
}

TEST(IncrementalDecoderTest, Llama2ByteTokensAndLeadingSpace) {
  const Llama2cTokenizer* tok = SharedLlama2cTokenizer(kLlama2TokenizerPath);
  if (tok == nullptr) GTEST_SKIP() << "../shared/models absent";
  {  // " 😀" as byte tokens after "Hello": held until the 4th byte.
    IncrementalDecoder d(*tok, std::vector<int>{1, 15043});
    EXPECT_EQ(d.Push(29871), " ");
    EXPECT_EQ(d.Push(243), "");
    EXPECT_EQ(d.Push(162), "");
    EXPECT_EQ(d.Push(155), "");
    EXPECT_EQ(d.Push(131), "\xf0\x9f\x98\x80");
  }
  {  // First output right after BOS loses its space; after text it keeps it.
    IncrementalDecoder d(*tok, std::vector<int>{1});
    EXPECT_EQ(d.Push(15043), "Hello");
    EXPECT_EQ(d.Push(3186), " world");
    EXPECT_EQ(d.Push(1), "");
    EXPECT_EQ(d.Push(15043), "Hello");  // after a BOS in the output too
    EXPECT_EQ(d.Push(2), "");
  }
  {  // No prompt at all: nothing precedes, nothing strips.
    IncrementalDecoder d(*tok, std::vector<int>{});
    EXPECT_EQ(d.Push(15043), " Hello");
  }
  {  // A long prompt: only its last tokens are kept as context.
    std::vector<int> prompt = tok->Encode("Once upon a time, there was a little girl named Lily.");
    prompt.push_back(1);
    IncrementalDecoder d(*tok, prompt);
    EXPECT_EQ(d.Push(15043), "Hello");
  }
}

}  // namespace
}  // namespace gqa
