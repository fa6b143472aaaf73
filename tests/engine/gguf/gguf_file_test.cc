// GgufFile: every metadata type and getter, tensor infos and data placement,
// and every kind of hostile file giving an error that names the file and the
// field or tensor (never a crash: the truncation test parses every prefix).
#include "engine/gguf/gguf_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "engine/gguf/ggml_types.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/test_paths.h"

namespace gqa::gguf {
namespace {

using ::gqa::testing::GgufBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint8_t> Floats(int n, float start) {
  std::vector<uint8_t> out(n * 4);
  for (int i = 0; i < n; ++i) {
    const float v = start + i;
    std::memcpy(out.data() + 4 * i, &v, 4);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<GgufFile>> Parse(const std::vector<uint8_t>& bytes) {
  return GgufFile::FromBytes(bytes, "test.gguf");
}

// The error of parsing `bytes`; fails the test when parsing succeeds.
std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(bytes);
  if (f.ok()) {
    ADD_FAILURE() << "parsed a hostile file";
    return "";
  }
  EXPECT_THAT(f.status().message(), HasSubstr("test.gguf: "));
  return std::string(f.status().message());
}

// A small valid file: two tensors, the last one's data a whole number of
// alignment units so that every strict prefix is truncated somewhere.
GgufBuilder ValidBuilder() {
  GgufBuilder b;
  b.AddString("general.architecture", "llama");
  b.AddUint32("llama.block_count", 2);
  b.AddStringArray("tokenizer.ggml.tokens", {"a", "bc", ""});
  b.AddTensor("a", {4, 2}, GgmlType::kF32, Floats(8, 0));
  b.AddTensor("b", {8}, GgmlType::kF32, Floats(8, 100));
  return b;
}

TEST(GgufFileTest, ReadsEveryValueTypeAndTensors) {
  GgufBuilder b;
  b.AddUint8("u8", 200);
  b.AddInt8("i8", -5);
  b.AddUint16("u16", 60000);
  b.AddInt16("i16", -300);
  b.AddUint32("u32", 4000000000u);
  b.AddInt32("i32", -7);
  b.AddUint64("u64", 1ull << 40);
  b.AddInt64("i64", -(1ll << 40));
  b.AddFloat32("f32", 0.25f);
  b.AddFloat64("f64", 1e-300);
  b.AddBool("yes", true);
  b.AddString("s", "h\xC3\xA9llo");
  b.AddStringArray("sa", {"x", "", "yz"});
  b.AddFloat32Array("fa", {1.5f, -2.0f});
  b.AddInt32Array("ia", {3, -4});
  // An array of two arrays of uint8.
  std::vector<uint8_t> nested = GgufBuilder::U32(9);
  for (auto part : {GgufBuilder::U64(2), GgufBuilder::U32(0), GgufBuilder::U64(1),
                    std::vector<uint8_t>{7}, GgufBuilder::U32(0), GgufBuilder::U64(0)}) {
    nested.insert(nested.end(), part.begin(), part.end());
  }
  b.AddRaw("nested", 9, nested);
  b.AddTensor("w", {32, 3}, GgmlType::kQ8_0, std::vector<uint8_t>(3 * 34, 1));
  b.AddTensor("n", {5}, GgmlType::kF32, Floats(5, 1));
  const std::vector<uint8_t> bytes = b.Build();  // outlives the parse
  absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(bytes);
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.name(), "test.gguf");
  EXPECT_EQ(*g.GetUint("u8"), 200u);
  EXPECT_EQ(*g.GetInt("i8"), -5);
  EXPECT_EQ(*g.GetUint("u16"), 60000u);
  EXPECT_EQ(*g.GetInt("i16"), -300);
  EXPECT_EQ(*g.GetUint("u32"), 4000000000u);
  EXPECT_EQ(*g.GetInt("u32"), 4000000000ll);
  EXPECT_EQ(*g.GetInt("i32"), -7);
  EXPECT_EQ(*g.GetUint("u64"), 1ull << 40);
  EXPECT_EQ(*g.GetInt("i64"), -(1ll << 40));
  EXPECT_EQ(*g.GetFloat("f32"), 0.25);
  EXPECT_EQ(*g.GetFloat("f64"), 1e-300);
  EXPECT_TRUE(*g.GetBool("yes"));
  EXPECT_EQ(*g.GetString("s"), "h\xC3\xA9llo");
  EXPECT_THAT(*g.GetStringArray("sa"), ElementsAre("x", "", "yz"));
  EXPECT_THAT(*g.GetFloatArray("fa"), ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(*g.GetIntArray("ia"), ElementsAre(3, -4));
  EXPECT_EQ(*g.GetArrayLength("nested"), 2u);
  EXPECT_EQ(g.Find("nested")->elem_type, ValueType::kArray);
  EXPECT_TRUE(g.Has("s"));
  EXPECT_FALSE(g.Has("t"));
  EXPECT_EQ(g.keys().size(), 16u);
  EXPECT_EQ(g.keys().front(), "u8");

  // Errors name the file and the key.
  EXPECT_EQ(g.GetUint("missing").status().message(), "test.gguf: metadata key 'missing' not found");
  EXPECT_EQ(g.GetString("u8").status().message(),
            "test.gguf: metadata key 'u8' is a uint8, expected a string");
  EXPECT_EQ(g.GetUint("i8").status().message(),
            "test.gguf: metadata key 'i8' is -5, expected a non-negative integer");
  EXPECT_EQ(g.GetFloat("i32").status().message(),
            "test.gguf: metadata key 'i32' is a int32, expected a float32 or float64");
  EXPECT_EQ(g.GetStringArray("ia").status().message(),
            "test.gguf: metadata key 'ia' is a array of int32, expected an array of string");
  EXPECT_FALSE(g.GetIntArray("nested").ok());

  ASSERT_EQ(g.tensors().size(), 2u);
  const TensorInfo* w = g.FindTensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_THAT(w->dims, ElementsAre(32, 3));
  EXPECT_EQ(w->type, GgmlType::kQ8_0);
  EXPECT_EQ(w->nbytes, 3u * 34);
  EXPECT_EQ(w->numel(), 96);
  const TensorInfo* n = g.FindTensor("n");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->nbytes, 20u);
  float first;
  std::memcpy(&first, n->data, 4);
  EXPECT_EQ(first, 1.0f);
  EXPECT_EQ(g.data_offset() % 32, 0u);
  EXPECT_EQ(n->data - w->data, 128);  // 102 bytes rounded up to the alignment
  EXPECT_EQ(g.FindTensor("x"), nullptr);
  EXPECT_EQ(g.keep_alive(), nullptr);
}

TEST(GgufFileTest, ReadsVersion2AndCustomAlignment) {
  GgufBuilder b(2);
  b.alignment = 64;
  b.AddUint32("general.alignment", 64);
  b.AddTensor("a", {3}, GgmlType::kF32, Floats(3, 0));
  b.AddTensor("b", {3}, GgmlType::kF32, Floats(3, 5));
  const std::vector<uint8_t> bytes = b.Build();  // outlives the parse
  absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(bytes);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->version(), 2u);
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ((*f)->data_offset() % 64, 0u);
  EXPECT_EQ((*f)->FindTensor("b")->data - (*f)->FindTensor("a")->data, 64);
}

TEST(GgufFileTest, EveryTruncationIsAnError) {
  const std::vector<uint8_t> bytes = ValidBuilder().Build();
  ASSERT_TRUE(Parse(bytes).ok());
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + len);
    absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(prefix);
    EXPECT_FALSE(f.ok()) << "prefix of " << len << " bytes parsed";
    if (!f.ok()) {
      EXPECT_THAT(f.status().message(), HasSubstr("test.gguf: ")) << len;
    }
  }
  EXPECT_THAT(ErrorOf({}), HasSubstr("magic: truncated"));
  GgufBuilder one;
  one.AddString("general.architecture", "llama");
  const std::vector<uint8_t> one_bytes = one.Build();
  EXPECT_THAT(ErrorOf(std::vector<uint8_t>(one_bytes.begin(), one_bytes.begin() + 42)),
              HasSubstr("metadata entry #0 key: string length 20 runs past the end"));
}

// A cheap stand-in for the fuzzer: random byte flips of a valid file parse
// or fail cleanly, and every parsed tensor lies within the bytes.
TEST(GgufFileTest, RandomByteFlipsParseOrFailCleanly) {
  const std::vector<uint8_t> bytes = ValidBuilder().Build();
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> m = bytes;
    const int flips = 1 + next() % 4;
    for (int k = 0; k < flips; ++k) m[next() % m.size()] = static_cast<uint8_t>(next());
    absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(m);
    if (!f.ok()) {
      EXPECT_THAT(f.status().message(), HasSubstr("test.gguf: "));
      continue;
    }
    for (const TensorInfo& t : (*f)->tensors()) {
      EXPECT_GE(t.data, m.data());
      EXPECT_LE(t.data + t.nbytes, m.data() + m.size());
    }
  }
}

TEST(GgufFileTest, BadMagicAndVersion) {
  std::vector<uint8_t> bytes = ValidBuilder().Build();
  bytes[3] = 'X';
  EXPECT_EQ(ErrorOf(bytes), "test.gguf: magic: not a GGUF file (no 'GGUF')");
  EXPECT_THAT(ErrorOf(GgufBuilder(1).Build()), HasSubstr("version: 1 is not supported"));
  EXPECT_THAT(ErrorOf(GgufBuilder(4).Build()), HasSubstr("version: 4 is not supported"));
  EXPECT_THAT(ErrorOf(GgufBuilder(0x03000000).Build()), HasSubstr("big-endian"));
}

TEST(GgufFileTest, AbsurdCountsAndLengths) {
  GgufBuilder b = ValidBuilder();
  b.kv_count = 1ull << 60;
  EXPECT_THAT(ErrorOf(b.Build()),
              HasSubstr("metadata count: 1152921504606846976 entries cannot fit"));
  b = ValidBuilder();
  b.tensor_count = 1ull << 40;
  EXPECT_THAT(ErrorOf(b.Build()), HasSubstr("tensor count: 1099511627776 tensor infos cannot fit"));

  GgufBuilder s;
  s.AddRaw("k", 8, GgufBuilder::U64(1ull << 62));  // a string longer than the file
  EXPECT_THAT(ErrorOf(s.Build()),
              HasSubstr("metadata key 'k': string length 4611686018427387904 runs past the end"));
  GgufBuilder a;
  std::vector<uint8_t> arr = GgufBuilder::U32(4);  // uint32 elements
  const std::vector<uint8_t> count = GgufBuilder::U64(1ull << 61);
  arr.insert(arr.end(), count.begin(), count.end());
  a.AddRaw("arr", 9, arr);
  EXPECT_THAT(ErrorOf(a.Build()),
              HasSubstr("metadata key 'arr': array of 2305843009213693952 uint32 elements runs "
                        "past the end"));
  GgufBuilder sa;
  std::vector<uint8_t> sarr = GgufBuilder::U32(8);  // strings
  const std::vector<uint8_t> three = GgufBuilder::U64(3);
  sarr.insert(sarr.end(), three.begin(), three.end());
  for (auto part : {GgufBuilder::Str("ok"), GgufBuilder::U64(1000)}) {
    sarr.insert(sarr.end(), part.begin(), part.end());
  }
  sa.AddRaw("strs", 9, sarr);
  EXPECT_THAT(ErrorOf(sa.Build()), HasSubstr("metadata key 'strs'[1]: string length 1000 runs"));
}

TEST(GgufFileTest, UnknownValueTypesAndDeepNesting) {
  GgufBuilder b;
  b.AddRaw("k", 13, GgufBuilder::U32(0));
  EXPECT_EQ(ErrorOf(b.Build()), "test.gguf: metadata key 'k' value type: unknown value type 13");
  GgufBuilder e;
  std::vector<uint8_t> arr = GgufBuilder::U32(77);
  const std::vector<uint8_t> one = GgufBuilder::U64(1);
  arr.insert(arr.end(), one.begin(), one.end());
  e.AddRaw("k", 9, arr);
  EXPECT_THAT(ErrorOf(e.Build()), HasSubstr("metadata key 'k' (array element type): unknown value "
                                            "type 77"));
  GgufBuilder deep;
  std::vector<uint8_t> nest;
  for (int i = 0; i < 20; ++i) {
    for (auto part : {GgufBuilder::U32(9), GgufBuilder::U64(1)}) {
      nest.insert(nest.end(), part.begin(), part.end());
    }
  }
  deep.AddRaw("deep", 9, nest);
  EXPECT_THAT(ErrorOf(deep.Build()), HasSubstr("arrays nested deeper than 8"));
}

TEST(GgufFileTest, DuplicateKeysAndTensorNames) {
  GgufBuilder b = ValidBuilder();
  b.AddUint32("llama.block_count", 3);
  EXPECT_EQ(ErrorOf(b.Build()), "test.gguf: metadata key 'llama.block_count': duplicate key");
  GgufBuilder t = ValidBuilder();
  t.AddTensor("a", {8}, GgmlType::kF32, Floats(8, 0));
  EXPECT_EQ(ErrorOf(t.Build()), "test.gguf: tensor 'a': duplicate tensor name");
}

TEST(GgufFileTest, BadAlignment) {
  GgufBuilder b = ValidBuilder();
  b.AddUint32("general.alignment", 48);
  EXPECT_THAT(ErrorOf(b.Build()),
              HasSubstr("metadata key 'general.alignment': 48 is not a power of two"));
  GgufBuilder z = ValidBuilder();
  z.AddUint64("general.alignment", 32);
  EXPECT_THAT(ErrorOf(z.Build()),
              HasSubstr("metadata key 'general.alignment': is a uint64, not a uint32"));
}

TEST(GgufFileTest, BadTensorInfos) {
  auto with_tensor = [](std::vector<int64_t> dims, GgmlType type, size_t nbytes) {
    GgufBuilder b = ValidBuilder();
    b.AddTensor("t", std::move(dims), type, std::vector<uint8_t>(nbytes, 0));
    return b;
  };
  EXPECT_EQ(ErrorOf(with_tensor({4, 0}, GgmlType::kF32, 0).Build()),
            "test.gguf: tensor 't': dims[1] = 0 is not positive");
  EXPECT_EQ(ErrorOf(with_tensor({-4}, GgmlType::kF32, 0).Build()),
            "test.gguf: tensor 't': dims[0] = -4 is not positive");
  EXPECT_EQ(ErrorOf(with_tensor({1, 1, 1, 1, 1}, GgmlType::kF32, 4).Build()),
            "test.gguf: tensor 't': has 5 dimensions (1 to 4 allowed)");
  EXPECT_EQ(ErrorOf(with_tensor({}, GgmlType::kF32, 4).Build()),
            "test.gguf: tensor 't': has 0 dimensions (1 to 4 allowed)");
  EXPECT_EQ(ErrorOf(with_tensor({1ll << 32, 1ll << 32}, GgmlType::kF32, 0).Build()),
            "test.gguf: tensor 't': the product of its dims overflows");
  EXPECT_EQ(ErrorOf(with_tensor({1ll << 62}, GgmlType::kF32, 0).Build()),
            "test.gguf: tensor 't': its size in bytes overflows");
  EXPECT_EQ(ErrorOf(with_tensor({33}, GgmlType::kQ4_0, 18).Build()),
            "test.gguf: tensor 't': row length 33 is not a multiple of q4_0's block size 32");
  GgufBuilder unknown = with_tensor({4}, GgmlType::kF32, 16);
  unknown.raw_type = 99;
  EXPECT_EQ(ErrorOf(unknown.Build()), "test.gguf: tensor 't': unknown ggml type 99");
  unknown.raw_type = 4;  // Q4_2, removed from ggml
  EXPECT_EQ(ErrorOf(unknown.Build()), "test.gguf: tensor 't': unknown ggml type 4");
}

TEST(GgufFileTest, BadTensorOffsets) {
  GgufBuilder out_of_range = ValidBuilder();
  out_of_range.AddTensor("t", {8}, GgmlType::kF32, Floats(8, 0), 1ull << 50);
  EXPECT_THAT(ErrorOf(out_of_range.Build()),
              HasSubstr("tensor 't': data [1125899906842624, +32) runs past the end of the data "
                        "section"));
  GgufBuilder misaligned = ValidBuilder();
  misaligned.AddTensor("t", {8}, GgmlType::kF32, Floats(8, 0), 68);
  EXPECT_EQ(ErrorOf(misaligned.Build()),
            "test.gguf: tensor 't': data offset 68 is not a multiple of the alignment 32");
  GgufBuilder overlap = ValidBuilder();  // a: [0, 32), b: [32, 64)
  overlap.AddTensor("t", {16}, GgmlType::kF32, Floats(16, 0), 0);
  EXPECT_EQ(ErrorOf(overlap.Build()),
            "test.gguf: tensor 't': data at offset 0 overlaps tensor 'a' at offset 0");
  GgufBuilder overlap2 = ValidBuilder();
  overlap2.AddTensor("t", {9}, GgmlType::kF32, Floats(9, 0), 32);
  overlap2.AddTensor("u", {8}, GgmlType::kF32, Floats(8, 0), 64);
  EXPECT_THAT(ErrorOf(overlap2.Build()), HasSubstr("overlaps"));
}

TEST(GgufFileTest, ParsesTheTinyRandomLlama) {
  std::optional<std::filesystem::path> models = testing::SharedModelsDir();
  const std::filesystem::path path =
      models ? *models / "tiny-random-gguf" / "llama-2-tiny-random.gguf" : "";
  if (!models || !std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  absl::StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::Open(path.string());
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.keys().size(), 18u);
  EXPECT_EQ(*g.GetString("general.architecture"), "llama");
  EXPECT_EQ(*g.GetUint("llama.embedding_length"), 8u);
  EXPECT_EQ(*g.GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  absl::StatusOr<std::vector<std::string_view>> tokens = g.GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 32000u);
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ(g.GetFloatArray("tokenizer.ggml.scores")->size(), 32000u);
  EXPECT_EQ(g.GetIntArray("tokenizer.ggml.token_type")->at(0), 2);
  ASSERT_EQ(g.tensors().size(), 12u);
  EXPECT_EQ(g.data_offset(), 724416u);
  const TensorInfo* embd = g.FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_THAT(embd->dims, ElementsAre(8, 32000));
  EXPECT_EQ(embd->type, GgmlType::kF16);
  EXPECT_EQ(embd->nbytes, 512000u);
  EXPECT_EQ(g.FindTensor("output.weight")->data - embd->data, 1238560 - 724416);
  EXPECT_NE(g.keep_alive(), nullptr);
}

TEST(GgufFileTest, OpenNamesAMissingFile) {
  absl::StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::Open("/nonexistent/x.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("/nonexistent/x.gguf"));
}

TEST(GgmlTypesTest, Table) {
  EXPECT_EQ(FindGgmlType(12)->block_size, 256);
  EXPECT_EQ(FindGgmlType(12)->type_size, 144);
  EXPECT_EQ(GgmlTypeName(GgmlType::kQ4_1), "q4_1");
  EXPECT_EQ(FindGgmlType(4), nullptr);
  EXPECT_EQ(GgmlTypeName(static_cast<GgmlType>(77)), "type 77");
}

}  // namespace
}  // namespace gqa::gguf
