#include "engine/tokenizer/gguf/gguf_tokenizer.h"

#include <cstdio>
#include <string>
#include <vector>

#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/gguf/spm_merges.h"
#include "engine/tokenizer/hf/byte_level.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using T = GgufTokenType;

// A byte-level (gpt2) vocabulary: 0 <|endoftext|>, 1 <|im_start|>,
// 2 <|im_end|> (control), 3 <tool> (user-defined), 4 + b the byte b, then
// 260 "hi" and 261 "12" from merges "h i" and "1 2".
constexpr int B(char c) { return 4 + static_cast<unsigned char>(c); }

GgufVocab ByteVocab(const std::string& pre = "gpt2") {
  GgufVocab v;
  v.name = "test.gguf";
  v.model = "gpt2";
  v.pre = pre;
  v.tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool>"};
  v.types = {T::kControl, T::kControl, T::kControl, T::kUserDefined};
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(hf::ByteLevelCharUtf8(static_cast<uint8_t>(b)));
    v.types.push_back(T::kNormal);
  }
  v.tokens.insert(v.tokens.end(), {"hi", "12"});
  v.types.insert(v.types.end(), {T::kNormal, T::kNormal});
  v.merges = {"h i", "1 2"};
  v.bos_id = 1;
  v.eos_id = 2;
  return v;
}

std::unique_ptr<HfTokenizer> Build(GgufVocab vocab) {
  auto tok = TokenizerFromGgufVocab(std::move(vocab));
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? *std::move(tok) : nullptr;
}

TEST(GgufTokenizerTest, ControlTokensInTextAreTheirIds) {
  auto tok = Build(ByteVocab());
  ASSERT_NE(tok, nullptr);
  EXPECT_THAT(tok->Encode("<|im_start|>user\nhi<|im_end|>", false),
              ElementsAre(1, B('u'), B('s'), B('e'), B('r'), B('\n'), 260, 2));
  EXPECT_THAT(tok->Encode("a<tool>b", false), ElementsAre(B('a'), 3, B('b')));
  EXPECT_THAT(
      tok->Encode("<|im_start", false),
      ElementsAre(B('<'), B('|'), B('i'), B('m'), B('_'), B('s'), B('t'), B('a'), B('r'), B('t')));
}

TEST(GgufTokenizerTest, DecodeSkipsControlTokensOnly) {
  auto tok = Build(ByteVocab());
  ASSERT_NE(tok, nullptr);
  const std::vector<int> ids = {1, 260, B(' '), 3, 2};
  EXPECT_EQ(tok->Decode(ids, true), "hi <tool>");
  EXPECT_EQ(tok->Decode(ids, false), "<|im_start|>hi <tool><|im_end|>");
}

TEST(GgufTokenizerTest, EndOfGenerationIsEosThenEndOfTurnTokens) {
  auto tok = Build(ByteVocab());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_THAT(tok->eos_ids(), ElementsAre(2, 0));  // <|im_end|>, then <|endoftext|>
  EXPECT_EQ(tok->vocab_size(), 262);
}

TEST(GgufTokenizerTest, EndOfTurnTextBecomesControl) {
  GgufVocab v = ByteVocab();
  v.tokens.push_back("<|eot_id|>");  // typed normal: llama.cpp makes it control
  v.types.push_back(T::kNormal);
  v.eos_id = 0;
  auto tok = Build(std::move(v));
  ASSERT_NE(tok, nullptr);
  EXPECT_THAT(tok->eos_ids(), ElementsAre(0, 2, 262));
  EXPECT_THAT(tok->Encode("hi<|eot_id|>", false), ElementsAre(260, 262));
  EXPECT_EQ(tok->Decode(std::vector<int>{260, 262}, true), "hi");
}

TEST(GgufTokenizerTest, EotKeyJoinsTheSet) {
  GgufVocab v = ByteVocab();
  v.tokens[3] = "<turn_end>";
  v.types[3] = T::kControl;
  v.eot_id = 3;
  auto tok = Build(std::move(v));
  ASSERT_NE(tok, nullptr);
  EXPECT_THAT(tok->eos_ids(), ElementsAre(2, 0, 3));
}

TEST(GgufTokenizerTest, AddBosAndEos) {
  GgufVocab v = ByteVocab();
  auto plain = Build(v);
  ASSERT_NE(plain, nullptr);
  EXPECT_THAT(plain->Encode("hi", true), ElementsAre(260));  // gpt2: no BOS by default
  v.add_bos = true;
  v.add_eos = true;
  auto both = Build(v);
  ASSERT_NE(both, nullptr);
  EXPECT_THAT(both->Encode("hi", true), ElementsAre(1, 260, 2));
  EXPECT_THAT(both->Encode("hi", false), ElementsAre(260));
  auto llama3 = Build(ByteVocab("llama-bpe"));  // Llama 3 adds BOS by default
  ASSERT_NE(llama3, nullptr);
  EXPECT_THAT(llama3->Encode("hi", true), ElementsAre(1, 260));
}

TEST(GgufTokenizerTest, PreTokenizerByName) {
  auto gpt2 = Build(ByteVocab("gpt2"));
  auto smollm = Build(ByteVocab("smollm"));  // digits one by one
  auto qwen2 = Build(ByteVocab("qwen2"));
  auto llama3 = Build(ByteVocab("llama-bpe"));
  auto fallback = Build(ByteVocab(""));
  ASSERT_TRUE(gpt2 && smollm && qwen2 && llama3 && fallback);
  EXPECT_THAT(gpt2->Encode("12", false), ElementsAre(261));
  EXPECT_THAT(smollm->Encode("12", false), ElementsAre(B('1'), B('2')));
  EXPECT_THAT(qwen2->Encode("12", false), ElementsAre(B('1'), B('2')));
  EXPECT_THAT(llama3->Encode("12", false), ElementsAre(261));
  EXPECT_THAT(fallback->Encode("12", false), ElementsAre(261));
  // GPT-2 keeps " hi" one word (no merge "Ġ hi" here); Llama 3 too.
  EXPECT_THAT(gpt2->Encode("hi hi", false), ElementsAre(260, B(' '), 260));
}

TEST(GgufTokenizerTest, UnknownPreTokenizerIsAnErrorNamingIt) {
  auto tok = TokenizerFromGgufVocab(ByteVocab("mystery-bpe"));
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(tok.status().message(), HasSubstr("tokenizer.ggml.pre = \"mystery-bpe\""));
  EXPECT_THAT(tok.status().message(), HasSubstr("test.gguf"));
}

TEST(GgufTokenizerTest, BadVocabulariesAreErrors) {
  GgufVocab v = ByteVocab();
  v.model = "bert";
  EXPECT_THAT(TokenizerFromGgufVocab(v).status().message(), HasSubstr("\"bert\""));
  v = ByteVocab();
  v.types.pop_back();
  EXPECT_THAT(TokenizerFromGgufVocab(v).status().message(), HasSubstr("token_type"));
  v = ByteVocab();
  v.bos_id = 262;
  EXPECT_THAT(TokenizerFromGgufVocab(v).status().message(), HasSubstr("bos token id 262"));
  v = ByteVocab();
  v.merges.push_back("nospace");
  EXPECT_THAT(TokenizerFromGgufVocab(v).status().message(), HasSubstr("merges[2]"));
  v = ByteVocab();
  v.merges.push_back("x zz");  // "zz" is not a token
  EXPECT_FALSE(TokenizerFromGgufVocab(v).ok());
}

// A SentencePiece ("llama") vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3 + b the
// byte token <0xNN>, then ▁ a b ▁a ab ▁ab with falling scores.
GgufVocab SpmVocab() {
  GgufVocab v;
  v.name = "spm.gguf";
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {T::kUnknown, T::kControl, T::kControl};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.tokens.emplace_back(name);
    v.types.push_back(T::kByte);
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  const std::vector<std::string> pieces = {"\u2581", "a", "b", "\u2581a", "ab", "\u2581ab"};
  for (size_t i = 0; i < pieces.size(); ++i) {
    v.tokens.push_back(pieces[i]);
    v.types.push_back(T::kNormal);
    v.scores.push_back(-1.0f - static_cast<float>(i));
  }
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  return v;
}

constexpr int kSpace = 259, kA = 260, kB = 261, kSpaceA = 262, kAB = 263, kSpaceAB = 264;

TEST(GgufTokenizerTest, SentencePieceScoresAndByteFallback) {
  auto tok = Build(SpmVocab());
  ASSERT_NE(tok, nullptr);
  EXPECT_THAT(tok->Encode("ab", false), ElementsAre(kSpaceAB));
  EXPECT_THAT(tok->Encode("ab", true), ElementsAre(1, kSpaceAB));  // BOS by default
  EXPECT_THAT(tok->Encode("ab \xC3\xA9", false), ElementsAre(kSpaceAB, kSpace, 3 + 0xC3, 3 + 0xA9));
  // After a special token the text gets its space prefix again (as llama.cpp).
  EXPECT_THAT(tok->Encode("a<s>b", false), ElementsAre(kSpaceA, 1, kSpace, kB));
  EXPECT_EQ(tok->Decode(std::vector<int>{1, kSpaceAB, kSpace, 3 + 0xC3, 3 + 0xA9}, true),
            "ab \xC3\xA9");
  EXPECT_THAT(tok->eos_ids(), ElementsAre(2));
}

TEST(GgufTokenizerTest, SentencePieceWithoutSpacePrefix) {
  GgufVocab v = SpmVocab();
  v.add_space_prefix = false;
  v.add_bos = false;
  auto tok = Build(std::move(v));
  ASSERT_NE(tok, nullptr);
  EXPECT_THAT(tok->Encode("ab", true), ElementsAre(kAB));
  EXPECT_THAT(tok->Encode("b a", false), ElementsAre(kB, kSpaceA));
  EXPECT_EQ(tok->Decode(std::vector<int>{kB, kSpaceA}, true), "b a");
  EXPECT_EQ(kA, 260);
}

TEST(GgufTokenizerTest, SentencePieceNeedsScores) {
  GgufVocab v = SpmVocab();
  v.scores.clear();
  EXPECT_THAT(TokenizerFromGgufVocab(v).status().message(), HasSubstr("tokenizer.ggml.scores"));
}

TEST(SpmMergesTest, OrderedByScoreThenIds) {
  const std::vector<std::string> tokens = {"a", "b", "ab", "c", "abc", "bc"};
  const std::vector<float> scores = {0, 0, -1, 0, -3, -2};
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(SpmMergesFromScores(tokens, scores),
              ElementsAre(P{"a", "b"}, P{"b", "c"}, P{"a", "bc"}, P{"ab", "c"}));
}

TEST(GgufTokenizerTest, ReadsTheMetadataOfAFile) {
  testing::GgufBuilder b;
  const GgufVocab v = ByteVocab("smollm");
  b.AddString("general.architecture", "llama");
  b.AddString("tokenizer.ggml.model", "gpt2");
  b.AddString("tokenizer.ggml.pre", "smollm");
  b.AddStringArray("tokenizer.ggml.tokens", v.tokens);
  std::vector<int32_t> types;
  for (const T t : v.types) types.push_back(static_cast<int32_t>(t));
  b.AddInt32Array("tokenizer.ggml.token_type", types);
  b.AddStringArray("tokenizer.ggml.merges", v.merges);
  b.AddUint32("tokenizer.ggml.bos_token_id", 1);
  b.AddUint32("tokenizer.ggml.eos_token_id", 2);
  b.AddBool("tokenizer.ggml.add_bos_token", true);
  const std::vector<uint8_t> bytes = b.Build();
  auto file = gguf::GgufFile::FromBytes(bytes, "mem.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  auto tok = LoadGgufTokenizer(**file);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_THAT((*tok)->Encode("<|im_start|>12", true), ElementsAre(1, 1, B('1'), B('2')));
  EXPECT_THAT((*tok)->eos_ids(), ElementsAre(2, 0));

  testing::GgufBuilder bad;
  bad.AddString("tokenizer.ggml.model", "gpt2");
  bad.AddStringArray("tokenizer.ggml.tokens", v.tokens);
  bad.AddStringArray("tokenizer.ggml.merges", v.merges);
  bad.AddUint32("tokenizer.ggml.eos_token_id", 999);
  const std::vector<uint8_t> bad_bytes = bad.Build();
  auto bad_file = gguf::GgufFile::FromBytes(bad_bytes, "bad.gguf");
  ASSERT_TRUE(bad_file.ok()) << bad_file.status();
  const auto status = LoadGgufTokenizer(**bad_file).status();
  EXPECT_THAT(status.message(), HasSubstr("bad.gguf: tokenizer.ggml.eos_token_id = 999"));

  testing::GgufBuilder empty;
  empty.AddString("general.architecture", "llama");
  const std::vector<uint8_t> empty_bytes = empty.Build();
  auto empty_file = gguf::GgufFile::FromBytes(empty_bytes, "empty.gguf");
  ASSERT_TRUE(empty_file.ok()) << empty_file.status();
  EXPECT_THAT(LoadGgufTokenizer(**empty_file).status().message(),
              HasSubstr("tokenizer.ggml.model"));
}

TEST(GgufTokenizerRealTest, SmolLM2) {
  const auto path = testing::DefaultModelGguf();
  if (!path) GTEST_SKIP() << "SmolLM2 GGUF not fetched (scripts/fetch_default_model.sh)";
  auto tok = LoadGgufTokenizer(*path);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 49152);
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_THAT((*tok)->eos_ids(), ElementsAre(2, 0));
  // No BOS from add_special_tokens (add_bos_token = false); digits one by one.
  EXPECT_THAT((*tok)->Encode("<|im_start|>user\n2024<|im_end|>", true),
              ElementsAre(1, 4093, 198, 34, 32, 34, 36, 2));
  EXPECT_EQ((*tok)->Decode(std::vector<int>{1, 4093, 198, 34, 32, 34, 36, 2}, true), "user\n2024");
}

TEST(GgufTokenizerRealTest, TinyLlama2) {
  const auto dir = testing::SharedModelsDir();
  if (!dir) GTEST_SKIP() << "../shared/models not found";
  auto tok = LoadGgufTokenizer((*dir / "tiny-random-gguf" / "llama-2-tiny-random.gguf").string());
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 32000);
  EXPECT_THAT((*tok)->eos_ids(), ElementsAre(2));
  EXPECT_THAT((*tok)->Encode("Hello world!", true), ElementsAre(1, 15043, 3186, 29991));
  EXPECT_EQ((*tok)->Decode(std::vector<int>{1, 15043, 3186, 29991}, true), "Hello world!");
}

}  // namespace
}  // namespace gqa
