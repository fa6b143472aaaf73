// Texts and the ids llama2.c's encoder gives them with the two real llama2.c
// vocabularies in ../shared/models (BOS included).
//
// How the ids were derived (once, outside the repo): the Llama 2 ids of every
// valid UTF-8 text are SentencePiece's (tokenizer.model, sentencepiece 0.2,
// with BOS prepended) and equal a Python transliteration of llama2.c run.c
// `encode`; texts that are not UTF-8 (SentencePiece can't take them) and all
// tok512 ids come from that transliteration alone. The transliteration also
// agreed with Llama2cTokenizer on 3000 random texts per vocabulary.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/llama2c_tokenizer.h"
#include "gtest/gtest.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {

inline constexpr char kLlama2TokenizerPath[] = "llama2-tokenizer/tokenizer.bin";
inline constexpr char kTok512Path[] = "tinystories-tok512/tok512.bin";

// The tokenizer at ../shared/models/<relative>, loaded once per test binary.
// nullptr when ../shared/models is absent (callers GTEST_SKIP) and also when
// loading fails, which is then reported as a test failure.
inline const Llama2cTokenizer* SharedLlama2cTokenizer(const std::string& relative) {
  static auto* const kLoaded = new std::map<std::string, std::unique_ptr<Llama2cTokenizer>>();
  const auto dir = SharedModelsDir();
  if (!dir) return nullptr;
  auto it = kLoaded->find(relative);
  if (it == kLoaded->end()) {
    auto tok = Llama2cTokenizer::Load((*dir / relative).string());
    if (!tok.ok()) {
      ADD_FAILURE() << tok.status();
      return nullptr;
    }
    it = kLoaded->emplace(relative, *std::move(tok)).first;
  }
  return it->second.get();
}

struct EncodeCase {
  std::string name;
  std::string text;
  std::vector<int> llama2_ids;  // llama2-tokenizer/tokenizer.bin, 32000 tokens
  std::vector<int> tok512_ids;  // tinystories-tok512/tok512.bin, 512 tokens
};

inline const std::vector<EncodeCase>& EncodeCases() {
  // clang-format off
  static const auto* const kCases = new std::vector<EncodeCase>{
    {"Empty", "",
     {1},
     {1}},
    {"HelloWorld", "Hello world",
     {1, 15043, 3186},
     {1, 346, 306, 414, 263, 304, 341}},
    {"LeadingSpace", " Hello",
     {1, 29871, 15043},
     {1, 410, 346, 306, 414}},
    {"TrailingSpace", "Hello ",
     {1, 15043, 29871},
     {1, 346, 306, 414, 410}},
    {"TwoLeadingSpaces", "  leading",
     {1, 259, 8236},
     {1, 410, 410, 278, 411, 380, 299}},
    {"MultipleSpaces", "a  b   c",
     {1, 263, 29871, 289, 259, 274},
     {1, 261, 410, 268, 410, 410, 280}},
    {"OnlySpaces", "   ",
     {1, 268},
     {1, 410, 410, 410, 410}},
    {"TrailingSpaces", "trailing  ",
     {1, 25053, 259},
     {1, 259, 420, 412, 290, 299, 410, 410}},
    {"Newlines", "Hello\nworld\n",
     {1, 15043, 13, 11526, 13},
     {1, 346, 306, 414, 13, 424, 304, 341, 13}},
    {"OnlyNewlines", "\n\n",
     {1, 29871, 13, 13},
     {1, 410, 13, 13}},
    {"CrLfTab", "line1\r\nline2\ttab",
     {1, 1196, 29896, 30004, 13, 1220, 29906, 12, 3891},
     {1, 278, 271, 411, 475, 16, 13, 421, 271, 411, 479, 12, 413, 412, 430}},
    {"Emoji", "\xf0\x9f\x98\x80",
     {1, 29871, 243, 162, 155, 131},
     {1, 410, 243, 162, 155, 131}},
    {"ZwjFamily", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6",
     {1, 29871, 243, 162, 148, 171, 30722, 243, 162, 148, 172, 30722, 243, 162, 148, 170, 30722, 243, 162, 148, 169},
     {1, 410, 243, 162, 148, 171, 229, 131, 144, 243, 162, 148, 172, 229, 131, 144, 243, 162, 148, 170, 229, 131, 144, 243, 162, 148, 169}},
    {"Cjk", "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c",
     {1, 29871, 30919, 31076, 30793, 30967},
     {1, 410, 231, 192, 163, 232, 168, 192, 231, 187, 153, 234, 152, 143}},
    {"AccentedLatin", "Caf\xc3\xa9 na\xc3\xafve \xc3\x85ngstr\xc3\xb6m",
     {1, 315, 28059, 1055, 30085, 345, 11260, 865, 25961},
     {1, 410, 457, 412, 431, 485, 297, 412, 198, 178, 360, 410, 198, 136, 416, 428, 356, 420, 198, 185, 423}},
    {"Story", "Once upon a time, there was a little girl named Lily.",
     {1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217, 7826, 4257, 365, 2354, 29889},
     {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426}},
    {"InvalidFfFe", "\xff\xfe",  // not UTF-8: run.c transliteration only
     {1, 29871, 258, 257},
     {1, 410, 258, 257}},
    {"ContinuationAfterAscii", "a\x80" "b",  // not UTF-8: run.c transliteration only
     {1, 29871, 100, 131, 29890},
     {1, 410, 100, 131, 430}},
    {"LoneContinuations", "\x80\x80",  // not UTF-8: run.c transliteration only
     {1, 29871, 131, 131},
     {1, 410, 131, 131}},
    {"Truncated3Byte", "\xe4\xbd",  // not UTF-8: run.c transliteration only
     {1, 29871, 231, 192},
     {1, 410, 231, 192}},
    {"Truncated3ByteThenAscii", "\xe4\xbd" "A",  // not UTF-8: run.c transliteration only
     {1, 29871, 231, 192, 29909},
     {1, 410, 231, 192, 447}},
    {"Truncated2Byte", "\xc3",  // not UTF-8: run.c transliteration only
     {1, 29871, 198},
     {1, 410, 198}},
    {"FiveContinuations", "x\xf0\x9f\x98\x80\x80\x80y",  // not UTF-8: run.c transliteration only
     {1, 921, 243, 162, 155, 131, 131, 131, 29891},
     {1, 410, 444, 243, 162, 155, 131, 131, 131, 422}},
    {"AccentPlusContinuation", "\xc3\xa9\x80",  // not UTF-8: run.c transliteration only
     {1, 29871, 198, 172, 131},
     {1, 410, 198, 172, 131}},
    {"GlobeEmoji", "Hello \xf0\x9f\x8c\x8d!",
     {1, 15043, 29871, 31494, 29991},
     {1, 346, 306, 414, 410, 243, 162, 143, 144, 443}},
    {"GlobePlusContinuation", "\xf0\x9f\x8c\x8d\x80",  // not UTF-8: run.c transliteration only
     {1, 29871, 31494, 131},
     {1, 410, 243, 162, 143, 144, 131}},
    {"AsciiPlusFourContinuations", "a\x80\x80\x80\x80",  // not UTF-8: run.c transliteration only
     {1, 29871, 100, 131, 131, 131, 131},
     {1, 410, 100, 131, 131, 131, 131}},
    {"ByteTokenText", "<0x41>",
     {1, 529, 29900, 29916, 29946, 29896, 29958},
     {1, 410, 504, 477, 444, 484, 475, 505}},
    {"NulByte", std::string("Hi\x00there", 8),
     {1, 6324, 3, 12711},
     {1, 320, 417, 3, 413, 260, 276}},
  };
  // clang-format on
  return *kCases;
}

}  // namespace gqa::testing
