// The generic IncrementalDecoder (engine/tokenizer/incremental_decoder.h) over
// the real HF tokenizers: streamed deltas are whole UTF-8 characters and add
// up to the full decode, byte-fallback characters spelled over several tokens
// and SentencePiece's leading-space rule included.
#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "engine/tokenizer/incremental_decoder.h"
#include "engine/tokenizer/utf8.h"
#include "gtest/gtest.h"
#include "tests/engine/tokenizer/hf/hf_test_util.h"

namespace gqa {
namespace {

using testing::SharedHfTokenizer;

const char* const kTokenizers[] = {"llama3", "qwen3", "gemma3", "spm32k"};

const std::vector<std::string>& Texts() {
  static const auto* const texts = new std::vector<std::string>{
      "Hello world",
      " leading space, and  two spaces",
      "\n\nnew lines\tand\ttabs\n",
      "𠮷野家の牛丼 🍚 — 东京 서울 Ελλάδα",
      "👨‍👩‍👧‍👦 family, 🇫🇷 flag, 👍🏽 thumbs, 1️⃣ keycap",
      "e\u0301 n\u0303 Z\u0351\u036b\u0343 a\u0308\u0301",
      "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 𓀀 \U0001FAE0",
      "numbers 1234567 3.14159 and code: for (int i = 0; i < n; ++i) {}",
      "<|begin_of_text|><s><bos><|im_start|> specials in text <|eot_id|></s>",
  };
  return *texts;
}

// What a request streams, as incremental_decoder.h defines it.
std::string ExpectedStream(const Tokenizer& tok, std::span<const int> prompt,
                           std::span<const int> output, bool skip) {
  std::vector<int> all(prompt.begin(), prompt.end());
  all.insert(all.end(), output.begin(), output.end());
  const std::string full = tok.Decode(all, skip);
  const std::string prompt_text = tok.Decode(prompt, skip);
  EXPECT_EQ(full.compare(0, prompt_text.size(), prompt_text), 0) << "Decode is not prefix-stable";
  return Utf8ReplaceInvalid(std::string_view(full).substr(prompt_text.size()));
}

std::string Stream(const Tokenizer& tok, std::span<const int> prompt, std::span<const int> output,
                   bool skip, std::vector<std::string>* deltas = nullptr) {
  IncrementalDecoder decoder(tok, prompt, skip);
  std::string text;
  for (const int id : output) {
    const std::string delta = decoder.Push(id);
    EXPECT_TRUE(IsWellFormedUtf8(delta)) << delta;
    if (deltas != nullptr) deltas->push_back(delta);
    text += delta;
  }
  const std::string rest = decoder.Flush();
  EXPECT_EQ(rest, "") << "a well-formed output leaves nothing held";
  return text + rest;
}

TEST(HfIncrementalDecoderTest, StreamsTheTextBack) {
  for (const char* name : kTokenizers) {
    const HfTokenizer* tok = SharedHfTokenizer(name);
    if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
    for (const std::string& text : Texts()) {
      SCOPED_TRACE(std::string(name) + ": " + text);
      const std::vector<int> ids = tok->Encode(text, /*add_special_tokens=*/false);
      EXPECT_EQ(Stream(*tok, {}, ids, /*skip=*/false), Utf8ReplaceInvalid(tok->Decode(ids, false)));
      EXPECT_TRUE(IsWellFormedUtf8(tok->Decode(ids, false)));
      // After a BOS-only prompt (where there is a BOS) too.
      if (tok->bos_id() >= 0) {
        const std::vector<int> bos = {tok->bos_id()};
        EXPECT_EQ(Stream(*tok, bos, ids, false), ExpectedStream(*tok, bos, ids, false));
      }
    }
  }
}

TEST(HfIncrementalDecoderTest, EverySplitIntoPromptAndOutput) {
  for (const char* name : kTokenizers) {
    const HfTokenizer* tok = SharedHfTokenizer(name);
    if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
    for (const std::string& text : Texts()) {
      SCOPED_TRACE(std::string(name) + ": " + text);
      const std::vector<int> ids = tok->Encode(text, /*add_special_tokens=*/true);
      const std::span<const int> all(ids);
      for (const bool skip : {true, false}) {
        for (std::size_t k = 0; k <= ids.size(); ++k) {
          SCOPED_TRACE(::testing::Message() << "prompt " << k << " skip " << skip);
          EXPECT_EQ(Stream(*tok, all.first(k), all.subspan(k), skip),
                    ExpectedStream(*tok, all.first(k), all.subspan(k), skip));
        }
      }
    }
  }
}

TEST(HfIncrementalDecoderTest, ByteFallbackCharacterWaitsForItsLastByte) {
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
  // U+20BB7 is not in the vocabulary: four byte tokens <0xF0> <0xA0> <0xAE> <0xB7>.
  const std::vector<int> ids = tok->Encode("a𠮷", false);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(tok->TokenString(ids[1]), "<0xF0>");
  std::vector<std::string> deltas;
  EXPECT_EQ(Stream(*tok, {}, ids, false, &deltas), "a𠮷");
  EXPECT_EQ(deltas, (std::vector<std::string>{"a", "", "", "", "𠮷"}));
}

TEST(HfIncrementalDecoderTest, PlainTextComesBack) {
  for (const char* name : kTokenizers) {
    const HfTokenizer* tok = SharedHfTokenizer(name);
    if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
    for (const std::string text : {"Hello world", "𠮷野家の牛丼 🍚 — 东京 서울", "\n\tx  y "}) {
      SCOPED_TRACE(std::string(name) + ": " + text);
      EXPECT_EQ(Stream(*tok, {}, tok->Encode(text, false), true), text);
    }
  }
}

TEST(HfIncrementalDecoderTest, PromptEndingInAByteFallbackCharacter) {
  // The decoder's first window starts a few prompt tokens back, here inside
  // the byte tokens of the prompt's last emoji; the output's emoji continues
  // the same run of byte tokens.
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
  const std::vector<int> prompt = tok->Encode("a𠮷", true);
  const std::vector<int> output = tok->Encode("𪚥", false);
  ASSERT_EQ(tok->TokenString(output[0]), "▁");
  const std::vector<int> emoji(output.begin() + 1, output.end());  // drop the "▁"
  ASSERT_EQ(emoji.size(), 4u);
  EXPECT_EQ(Stream(*tok, prompt, emoji, true), "𪚥");
  EXPECT_EQ(ExpectedStream(*tok, prompt, emoji, true), "𪚥");
}

TEST(HfIncrementalDecoderTest, SentencePieceLeadingSpace) {
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
  // "▁Hello" opens the text without its space; "▁world" keeps it.
  const std::vector<int> ids = tok->Encode("Hello world", false);
  std::vector<std::string> deltas;
  EXPECT_EQ(Stream(*tok, std::vector<int>{tok->bos_id()}, ids, true, &deltas), "Hello world");
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[1], " world");
}

// A window whose only context is a special token that skip_special_tokens
// drops would let a SentencePiece decoder's Strip (one leading space off the
// decoded text) take the next piece's space, which a full decode keeps: the
// window keeps older context over such tokens.
TEST(HfIncrementalDecoderTest, SkippedSpecialTokenInsideTheOutput) {
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
  const std::vector<int> ids = tok->Encode("Hi</s>there", false);  // ▁Hi </s> ▁there
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(tok->Decode(ids, true), "Hi there");
  std::vector<std::string> deltas;
  EXPECT_EQ(Stream(*tok, {}, ids, true, &deltas), "Hi there");
  EXPECT_EQ(deltas, (std::vector<std::string>{"Hi", "", " there"}));
  // Several in a row, and a prompt that ends in one.
  const int eos = ids[1];
  const std::vector<int> run = {ids[0], eos, eos, eos, ids[2]};
  EXPECT_EQ(Stream(*tok, {}, run, true), tok->Decode(run, true));
  EXPECT_EQ(Stream(*tok, std::vector<int>{ids[0], eos}, std::vector<int>{ids[2]}, true), " there");
}

TEST(HfIncrementalDecoderTest, LongRunOfSkippedTokensKeepsTheWindowBounded) {
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
  const std::vector<int> ids = tok->Encode("Hi</s>there", false);
  std::vector<int> run = {ids[0]};
  run.insert(run.end(), 3 * IncrementalDecoder::kMaxWindowTokens, ids[1]);
  run.push_back(ids[2]);
  // Past the cap the window slides anyway; the text stays well-formed and
  // holds both words (the space may go, as with any context-free window).
  const std::string text = Stream(*tok, {}, run, true);
  EXPECT_EQ(text.rfind("Hi", 0), 0u) << text;
  IncrementalDecoder decoder(*tok, {}, true);
  std::size_t widest = 0;
  for (const int id : run) {
    decoder.Push(id);
    widest = std::max(widest, decoder.num_window_tokens());
  }
  EXPECT_GT(widest, 1u) << "the skipped tokens kept older context";
  EXPECT_LE(widest, IncrementalDecoder::kMaxWindowTokens + 1);
  EXPECT_NE(text.find("there"), std::string::npos) << text;
}

TEST(HfIncrementalDecoderTest, IllFormedByteRunsStayWellFormed) {
  // A model can emit byte tokens that spell no character. HF's ByteFallback
  // then turns the whole run into U+FFFD per byte, even bytes that were
  // valid on their own and already streamed, so the stream cannot always
  // equal the full decode; it stays well-formed UTF-8 and never throws.
  const HfTokenizer* tok = SharedHfTokenizer("spm32k");
  if (tok == nullptr) GTEST_SKIP() << "../shared/models/tokenizers absent";
  const int a = *tok->TokenToId("<0x41>");
  const int e4 = *tok->TokenToId("<0xE4>");
  const int ff = *tok->TokenToId("<0xFF>");
  const int hello = *tok->TokenToId("▁Hello");
  const std::vector<int> ids = {hello, e4, hello, ff, a, e4};
  IncrementalDecoder decoder(*tok, {}, true);
  std::string text;
  for (const int id : ids) {
    const std::string delta = decoder.Push(id);
    EXPECT_TRUE(IsWellFormedUtf8(delta));
    text += delta;
  }
  text += decoder.Flush();
  EXPECT_TRUE(IsWellFormedUtf8(text));
  EXPECT_EQ(tok->Decode(ids), "Hello\xEF\xBF\xBD Hello\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace gqa
