#include "engine/tokenizer/llama2c_tokenizer.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/tokenizer/tokenizer_test_data.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using testing::EncodeCases;
using ::testing::HasSubstr;
using testing::kLlama2TokenizerPath;
using testing::kTok512Path;
using testing::SharedLlama2cTokenizer;

#define GET_TOKENIZER_OR_SKIP(var, path)                      \
  const Llama2cTokenizer* var = SharedLlama2cTokenizer(path); \
  if (var == nullptr) GTEST_SKIP() << "../shared/models absent or broken"

// ---------------------------------------------------------------------------
// Real vocabularies

TEST(Llama2cTokenizerTest, Llama2VocabularyBasics) {
  GET_TOKENIZER_OR_SKIP(tok, kLlama2TokenizerPath);
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_THAT(tok->eos_ids(), ElementsAre(2));
  EXPECT_EQ(tok->max_token_length(), 27);
  EXPECT_EQ(tok->TokenString(0), "<unk>");
  EXPECT_EQ(tok->TokenString(1), "\n<s>\n");
  EXPECT_EQ(tok->TokenString(2), "\n</s>\n");
  EXPECT_EQ(tok->TokenString(13), "<0x0A>");
  EXPECT_EQ(tok->TokenString(15043), " Hello");
  EXPECT_EQ(tok->TokenString(29871), " ");
  EXPECT_EQ(tok->TokenString(-1), "");
  EXPECT_EQ(tok->TokenString(32000), "");
  EXPECT_EQ(tok->score(260), -1.0f);
  EXPECT_EQ(tok->score(259), -1e9f);  // "  ": below every other merge, yet above -1e10
}

TEST(Llama2cTokenizerTest, Tok512VocabularyBasics) {
  GET_TOKENIZER_OR_SKIP(tok, kTok512Path);
  EXPECT_EQ(tok->vocab_size(), 512);
  EXPECT_EQ(tok->max_token_length(), 7);
  EXPECT_EQ(tok->TokenString(3), "<0x00>");
  EXPECT_EQ(tok->TokenString(258), "<0xFF>");
  EXPECT_EQ(tok->TokenString(259), " t");
  EXPECT_EQ(tok->TokenString(511), "\xe2\x80\x8a");
}

TEST(Llama2cTokenizerTest, EncodeMatchesReferenceIds) {
  GET_TOKENIZER_OR_SKIP(llama2, kLlama2TokenizerPath);
  GET_TOKENIZER_OR_SKIP(tok512, kTok512Path);
  for (const auto& c : EncodeCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(llama2->Encode(c.text), c.llama2_ids);
    EXPECT_EQ(tok512->Encode(c.text), c.tok512_ids);
    // Without special tokens: the same ids minus BOS (the dummy prefix stays).
    EXPECT_EQ(llama2->Encode(c.text, /*add_special_tokens=*/false),
              std::vector<int>(c.llama2_ids.begin() + 1, c.llama2_ids.end()));
  }
}

TEST(Llama2cTokenizerTest, DecodeOfEncodeIsTheText) {
  GET_TOKENIZER_OR_SKIP(llama2, kLlama2TokenizerPath);
  GET_TOKENIZER_OR_SKIP(tok512, kTok512Path);
  for (const auto& c : EncodeCases()) {
    SCOPED_TRACE(c.name);
    // The dummy-prefix space follows BOS, so decoding strips it again; byte
    // fallback makes this hold for bytes that are not UTF-8 too.
    EXPECT_EQ(llama2->Decode(c.llama2_ids), c.text);
    EXPECT_EQ(tok512->Decode(c.tok512_ids), c.text);
    // Without BOS nothing strips the dummy prefix.
    const std::vector<int> no_bos = llama2->Encode(c.text, /*add_special_tokens=*/false);
    EXPECT_EQ(llama2->Decode(no_bos), c.text.empty() ? "" : " " + c.text);
  }
}

TEST(Llama2cTokenizerTest, DecodeRules) {
  GET_TOKENIZER_OR_SKIP(tok, kLlama2TokenizerPath);
  // Leading space stripped only right after BOS.
  EXPECT_EQ(tok->Decode({{1, 15043, 3186}}), "Hello world");
  EXPECT_EQ(tok->Decode({{15043, 3186}}), " Hello world");
  EXPECT_EQ(tok->Decode({{15043, 1, 15043, 2, 15043}}), " HelloHello Hello");
  // Specials kept as their pieces when not skipped; BOS still strips.
  EXPECT_EQ(tok->Decode({{1, 15043, 2}}, /*skip_special_tokens=*/false), "\n<s>\nHello\n</s>\n");
  EXPECT_EQ(tok->Decode({{0}}), "<unk>");  // <unk> is not BOS/EOS: never skipped
  // Byte tokens are raw bytes, whether or not they form UTF-8.
  EXPECT_EQ(tok->Decode({{3 + 0x41, 13}}), "A\n");
  EXPECT_EQ(tok->Decode({{258, 257, 3 + 0x80}}), "\xff\xfe\x80");
  EXPECT_EQ(tok->Decode({{3}}), std::string(1, '\0'));
  EXPECT_EQ(tok->Decode({{243, 162, 155}}), "\xf0\x9f\x98");  // an incomplete emoji
  // <0x20> after BOS keeps its space: run.c strips the raw piece, "<0x20>".
  EXPECT_EQ(tok->Decode({{1, 3 + 0x20}}), " ");
  // Ids outside the vocabulary decode to nothing (but still end a BOS run).
  EXPECT_EQ(tok->Decode({{-1, 32000, 15043}}), " Hello");
  EXPECT_EQ(tok->Decode({{1, 32000, 15043}}), " Hello");
  EXPECT_EQ(tok->Decode({}), "");
}

TEST(Llama2cTokenizerTest, ExplicitVocabSizeReadsThatManyTokens) {
  const auto dir = testing::SharedModelsDir();
  if (!dir) GTEST_SKIP() << "../shared/models absent";
  const std::string path = (*dir / kTok512Path).string();
  auto full = Llama2cTokenizer::Load(path, 512);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ((*full)->vocab_size(), 512);
  // Fewer than the file holds: the rest is ignored (run.c reads vocab_size).
  // Ids 420.. ("l" is 421, "y" 422) are gone, so those bytes fall back.
  auto part = Llama2cTokenizer::Load(path, 420);
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ((*part)->vocab_size(), 420);
  EXPECT_THAT((*part)->Encode("a the sly"), ElementsAre(1, 261, 265, 262, 3 + 'l', 3 + 'y'));
  // More than the file holds.
  auto more = Llama2cTokenizer::Load(path, 513);
  ASSERT_FALSE(more.ok());
  EXPECT_THAT(more.status().message(), HasSubstr(path));
  EXPECT_THAT(more.status().message(), HasSubstr("truncated at token 512"));
  EXPECT_THAT(more.status().message(), HasSubstr("expected 513 tokens"));
}

// ---------------------------------------------------------------------------
// Synthetic files: merge order and load errors

struct Entry {
  float score;
  std::string piece;
};

// Bytes of a tokenizer.bin holding `entries`.
std::string Serialize(const std::vector<Entry>& entries, int32_t max_token_length = 16) {
  std::string out(reinterpret_cast<const char*>(&max_token_length), 4);
  for (const Entry& e : entries) {
    const int32_t len = static_cast<int32_t>(e.piece.size());
    out.append(reinterpret_cast<const char*>(&e.score), 4);
    out.append(reinterpret_cast<const char*>(&len), 4);
    out.append(e.piece);
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// <unk>, BOS, EOS, the 256 byte tokens, then `extra` (first extra id: 259).
std::vector<Entry> VocabWithBytes(const std::vector<Entry>& extra) {
  std::vector<Entry> v = {{0, "<unk>"}, {0, "\n<s>\n"}, {0, "\n</s>\n"}};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    v.push_back({0, buf});
  }
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

std::unique_ptr<Llama2cTokenizer> LoadEntries(const testing::ScratchDir& dir,
                                              const std::vector<Entry>& entries) {
  const std::string path = dir.File("tokenizer.bin");
  WriteFile(path, Serialize(entries));
  auto tok = Llama2cTokenizer::Load(path);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? *std::move(tok) : nullptr;
}

TEST(Llama2cTokenizerMergeTest, BestScoreFirstThenLeftmost) {
  testing::ScratchDir dir;
  // ids: 259 " ", 260 a, 261 b, 262 c, 263 ab, 264 ba, 265 bc, 266 x, 267 y, 268 xy
  // clang-format off
  auto tok = LoadEntries(dir, VocabWithBytes({{-9, " "}, {-9, "a"}, {-9, "b"}, {-9, "c"},
                                              {-1, "ab"}, {-1, "ba"}, {-0.5f, "bc"},
                                              {-9, "x"}, {-9, "y"}, {-2e10f, "xy"}}));
  // clang-format on
  ASSERT_NE(tok, nullptr);
  EXPECT_THAT(tok->Encode("aba"), ElementsAre(1, 259, 263, 260));  // tie: leftmost "ab"
  EXPECT_THAT(tok->Encode("abc"), ElementsAre(1, 259, 260, 265));  // "bc" scores higher
  EXPECT_THAT(tok->Encode("xy"), ElementsAre(1, 259, 266, 267));   // score <= -1e10: never
  EXPECT_THAT(tok->Encode("q"), ElementsAre(1, 259, 3 + 'q'));     // byte fallback
}

TEST(Llama2cTokenizerMergeTest, SmallVocabularyFallsBackToUnk) {
  testing::ScratchDir dir;
  auto tok = LoadEntries(dir, {{0, "<unk>"}, {0, "<s>"}, {0, "</s>"}, {0, "a"}, {0, "a"}});
  ASSERT_NE(tok, nullptr);
  // No " " for the dummy prefix and no byte tokens: byte ids would be >= 5.
  // The duplicate "a" resolves to the lower id.
  EXPECT_THAT(tok->Encode("ab"), ElementsAre(1, 0, 3, 0));
}

TEST(Llama2cTokenizerLoadTest, MissingFileIsNotFound) {
  auto tok = Llama2cTokenizer::Load("/nonexistent/dir/tokenizer.bin");
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(tok.status().message(), HasSubstr("/nonexistent/dir/tokenizer.bin"));
}

TEST(Llama2cTokenizerLoadTest, CorruptFilesNameFileAndToken) {
  testing::ScratchDir dir;
  const std::string path = dir.File("bad.bin");
  const std::string good = Serialize({{0, "<unk>"}, {0, "<s>"}, {0, "</s>"}, {-1, "hello"}});
  struct Corruption {
    std::string name, bytes, message;
  };
  std::string negative_len = good;
  const int32_t minus_five = -5;
  std::memcpy(&negative_len[4 + 3 * 8 + 5 + 3 + 4 + 4], &minus_five, 4);  // token 3's length
  const std::vector<Corruption> corruptions = {
      {"empty file", "", "missing or negative max_token_length"},
      {"negative max length", Serialize({}, -1), "missing or negative max_token_length"},
      {"header only", Serialize({}), "has 0 token(s)"},
      {"two tokens", Serialize({{0, "<unk>"}, {0, "<s>"}}), "has 2 token(s)"},
      {"cut in a piece", good.substr(0, good.size() - 1), "token 3 has length 5 but 4 byte(s)"},
      {"cut in a score", good.substr(0, good.size() - 11), "truncated at token 3: 2 byte(s)"},
      {"negative length", negative_len, "token 3 has length -5"},
  };
  for (const auto& c : corruptions) {
    SCOPED_TRACE(c.name);
    WriteFile(path, c.bytes);
    auto tok = Llama2cTokenizer::Load(path);
    ASSERT_FALSE(tok.ok());
    EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tok.status().message(), HasSubstr(path));
    EXPECT_THAT(tok.status().message(), HasSubstr(c.message));
  }
  WriteFile(path, good);
  EXPECT_TRUE(Llama2cTokenizer::Load(path).ok());
  EXPECT_EQ(Llama2cTokenizer::Load(path, -1).status().code(), absl::StatusCode::kInvalidArgument);
}

// FromBytes (the fuzz target's entry point) reads what Load reads, errors
// naming `name`.
TEST(Llama2cTokenizerLoadTest, FromBytesMatchesLoad) {
  const std::string good = Serialize({{0, "<unk>"}, {0, "<s>"}, {0, "</s>"}, {-1, "hello"}});
  auto tok = Llama2cTokenizer::FromBytes(good, "mem");
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 4);
  EXPECT_EQ((*tok)->TokenString(3), "hello");
  EXPECT_EQ((*tok)->score(3), -1.0f);
  EXPECT_EQ(Llama2cTokenizer::FromBytes(good, "mem", 3).value()->vocab_size(), 3);
  auto bad = Llama2cTokenizer::FromBytes(good.substr(0, good.size() - 1), "mem");
  EXPECT_EQ(bad.status().message(),
            "tokenizer mem: token 3 has length 5 but 4 byte(s) are left in the file");
}

TEST(Llama2cTokenizerLoadTest, TruncatedRealFileNamesTheToken) {
  const auto shared = testing::SharedModelsDir();
  if (!shared) GTEST_SKIP() << "../shared/models absent";
  std::ifstream in(*shared / kTok512Path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Walk to token 300's piece and cut one byte into it.
  std::size_t pos = 4;
  int32_t len = 0;
  for (int i = 0; i <= 300; ++i) {
    std::memcpy(&len, &data[pos + 4], 4);
    pos += 8 + (i < 300 ? len : 0);
  }
  testing::ScratchDir dir;
  const std::string path = dir.File("tok512_cut.bin");
  WriteFile(path, data.substr(0, pos + 1));
  auto tok = Llama2cTokenizer::Load(path);
  ASSERT_FALSE(tok.ok());
  EXPECT_THAT(tok.status().message(), HasSubstr(path));
  EXPECT_THAT(tok.status().message(),
              HasSubstr("token 300 has length " + std::to_string(len) + " but 1 byte(s)"));
}

}  // namespace
}  // namespace gqa
