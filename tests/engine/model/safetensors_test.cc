#include "engine/model/safetensors.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/model/weights_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// [u64 LE header length][header][data]
std::string Safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

class SafetensorsTest : public ::testing::Test {
 protected:
  // Writes `bytes` and opens them.
  absl::StatusOr<std::shared_ptr<const SafetensorsFile>> OpenBytes(const std::string& bytes) {
    testing::WriteFile(path_, bytes);
    return SafetensorsFile::Open(path_);
  }
  // The error of opening `bytes`; fails the test when it opens.
  std::string Error(const std::string& bytes) {
    auto f = OpenBytes(bytes);
    EXPECT_FALSE(f.ok());
    if (f.ok()) return "";
    EXPECT_THAT(f.status().message(), HasSubstr(path_));  // every error names the file
    return std::string(f.status().message());
  }
  // A one-tensor header with the given entry body for tensor "w".
  static std::string One(const std::string& entry) { return R"({"w": )" + entry + "}"; }

  testing::ScratchDir dir_;
  std::string path_ = dir_.File("model.safetensors");
};

TEST_F(SafetensorsTest, ReadsViewsIntoTheFile) {
  const std::string header =
      R"({"__metadata__": {"format": "pt"},
          "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "b": {"dtype": "BF16", "shape": [2], "data_offsets": [16, 20]},
          "e": {"dtype": "F16", "shape": [0, 5], "data_offsets": [20, 20]}})";
  std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  const std::string data = Floats({1, 2, 3, 4}) + std::string("\x80\x3f\x00\x40", 4);
  auto f = OpenBytes(Safetensors(padded, data));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT((*f)->Names(), ElementsAre("a", "b", "e"));
  const Tensor a = *(*f)->Get("a");
  EXPECT_EQ(a.ShapeString(), "[2, 2] f32");
  EXPECT_EQ(a.as<float>()[3], 4.0f);
  EXPECT_EQ(static_cast<const uint8_t*>(a.data),
            (*f)->mapping()->data() + 8 + padded.size());  // no copy
  const Tensor b = *(*f)->Get("b");
  EXPECT_EQ(b.dtype, DType::kBF16);
  EXPECT_EQ(Bf16ToF32(b.as<uint16_t>()[0]), 1.0f);
  EXPECT_EQ(Bf16ToF32(b.as<uint16_t>()[1]), 2.0f);
  EXPECT_EQ((*f)->Get("e")->numel(), 0);
  absl::StatusOr<Tensor> missing = (*f)->Get("zzz");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("'zzz'"));
}

// FromBytes (the fuzz target's entry point) validates exactly as Open does,
// with views into the caller's bytes and `name` in place of the path.
TEST_F(SafetensorsTest, FromBytesMatchesOpen) {
  std::string header = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  header.resize((header.size() + 7) / 8 * 8, ' ');  // data aligned: served in place
  const std::string bytes = Safetensors(header, Floats({3, 4}));
  auto f = SafetensorsFile::FromBytes(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "in-memory");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->path(), "in-memory");
  EXPECT_EQ((*f)->mapping(), nullptr);
  const Tensor a = *(*f)->Get("a");
  EXPECT_EQ(a.as<float>()[1], 4.0f);
  EXPECT_EQ(static_cast<const char*>(a.data), bytes.data() + 8 + header.size());  // no copy
  const std::string bad = Safetensors("[1]", "");
  auto e = SafetensorsFile::FromBytes({reinterpret_cast<const uint8_t*>(bad.data()), bad.size()},
                                      "in-memory");
  EXPECT_EQ(e.status().message(), "in-memory: header is not a JSON object");
  EXPECT_EQ(Error(bad), path_ + ": header is not a JSON object");
}

TEST_F(SafetensorsTest, UnalignedTensorIsCopiedAligned) {
  // Pad the header to 4k+1 bytes: the data then starts 1 byte past a 4-byte boundary.
  std::string header = R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}})";
  while (header.size() % 4 != 1) header += ' ';
  auto f = OpenBytes(Safetensors(header, Floats({1.5f, -2, 7})));
  ASSERT_TRUE(f.ok()) << f.status();
  const Tensor w = *(*f)->Get("w");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data) % 4, 0u);
  EXPECT_EQ(w.as<float>()[0], 1.5f);
  EXPECT_EQ(w.as<float>()[1], -2.0f);
  EXPECT_EQ(w.as<float>()[2], 7.0f);
}

TEST_F(SafetensorsTest, FileLevelErrors) {
  EXPECT_THAT(Error(""), HasSubstr("truncated"));
  EXPECT_THAT(Error("abcde"), HasSubstr("truncated"));
  EXPECT_THAT(Error(std::string(8, '\0')), HasSubstr("header length is 0"));
  std::string longer = Safetensors("{}", "");
  longer[0] = 100;  // claims 100 header bytes, has 2
  EXPECT_THAT(Error(longer),
              HasSubstr("header length 100 runs past the end of the file (10 bytes)"));
  std::string huge = Safetensors("{}", "");
  huge[7] = 1;  // 2^56 + 2
  EXPECT_THAT(Error(huge), HasSubstr("implausibly large"));
  EXPECT_THAT(Error(Safetensors("{\"w\": ", "")), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(Error(Safetensors("[1, 2]", "")), HasSubstr("header is not a JSON object"));
}

TEST_F(SafetensorsTest, TensorLevelErrorsNameTheTensor) {
  const std::string data = Floats({1, 2, 3, 4});
  struct Case {
    std::string entry;
    std::string message;
  };
  const Case cases[] = {
      {R"({"dtype": "I64", "shape": [2], "data_offsets": [0, 16]})", "dtype I64 is not supported"},
      {R"({"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]})", "dtype F8_E4M3"},
      {R"({"dtype": 3, "shape": [4], "data_offsets": [0, 16]})", "dtype"},
      {R"({"shape": [4], "data_offsets": [0, 16]})", "dtype"},
      {R"({"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]})", "not non-negative integers"},
      {R"({"dtype": "F32", "shape": [2.5], "data_offsets": [0, 10]})", "not non-negative integers"},
      {R"({"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]})", "not non-negative integers"},
      {R"({"dtype": "F32", "shape": 4, "data_offsets": [0, 16]})", "shape"},
      {R"({"dtype": "F32", "shape": [1, 1, 1, 1, 4], "data_offsets": [0, 16]})", "rank 5"},
      {R"({"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296],
           "data_offsets": [0, 16]})",
       "too large"},
      {R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 20]})", "run past the data section"},
      {R"({"dtype": "F32", "shape": [4], "data_offsets": [16, 0]})", "begin > end"},
      {R"({"dtype": "F32", "shape": [4], "data_offsets": [-4, 12]})", "data_offsets"},
      {R"({"dtype": "F32", "shape": [4], "data_offsets": [0]})", "data_offsets"},
      {R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 1.5]})", "data_offsets"},
      {R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 16]})",
       "span 16 bytes but shape [3] of F32 needs 12"},
      {R"({"dtype": "BF16", "shape": [4], "data_offsets": [0, 16]})", "needs 8"},
      {R"("not an object")", "not an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.entry);
    const std::string e = Error(Safetensors(One(c.entry), data));
    EXPECT_THAT(e, HasSubstr("tensor 'w'"));
    EXPECT_THAT(e, HasSubstr(c.message));
  }
}

TEST_F(SafetensorsTest, OverlappingTensorsAreRejected) {
  const std::string data = Floats({1, 2, 3, 4});
  const std::string e = Error(Safetensors(
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
      data));
  EXPECT_THAT(e, HasSubstr("'a' and 'b' overlap"));
  // A range inside another one, listed after a later tensor.
  const std::string inner = Error(Safetensors(
      R"({"big": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
          "z": {"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]}})",
      data));
  EXPECT_THAT(inner, HasSubstr("'big' and 'z' overlap"));
  // Touching ranges and empty tensors are fine.
  auto ok = OpenBytes(Safetensors(
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "e": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
          "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
      data));
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST_F(SafetensorsTest, WriterRoundTripsEveryDtypeAndStridedViews) {
  std::vector<float> f32 = {1, -2.5f, 3, 1e-3f, 5, 6};
  std::vector<uint16_t> bf16 = {0x3f80, 0xc000, 0x7f80};
  std::vector<uint16_t> f16 = {0x3c00, 0x0001, 0xfbff};
  const Tensor wide = Tensor::Make(f32.data(), DType::kF32, {2, 3});
  const std::vector<NamedTensor> tensors = {
      {"z.bf16", Tensor::Make(bf16.data(), DType::kBF16, {3})},
      {"a.f32", wide},
      {"m.f16", Tensor::Make(f16.data(), DType::kF16, {1, 3})},
      {"cols", wide.Cols(1, 3)},  // strided: written densely
  };
  ASSERT_TRUE(WriteSafetensors(path_, tensors).ok());
  const std::string bytes = testing::ReadFile(path_);
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
  auto f = SafetensorsFile::Open(path_);
  ASSERT_TRUE(f.ok()) << f.status();
  for (const NamedTensor& nt : tensors) {
    if (nt.name == "cols") continue;
    EXPECT_TRUE(testing::SameBits(*(*f)->Get(nt.name), nt.tensor)) << nt.name;
  }
  const Tensor cols = *(*f)->Get("cols");
  EXPECT_EQ(cols.ShapeString(), "[2, 2] f32");
  EXPECT_THAT(std::vector<float>(cols.as<float>(), cols.as<float>() + 4),
              ElementsAre(-2.5f, 3, 5, 6));
}

TEST_F(SafetensorsTest, WriterConvertsDtype) {
  std::vector<float> f32 = {1, -2.5f, 3.1f};
  ASSERT_TRUE(
      WriteSafetensors(path_, {{"w", Tensor::Make(f32.data(), DType::kF32, {3})}}, DType::kBF16)
          .ok());
  auto f = SafetensorsFile::Open(path_);
  ASSERT_TRUE(f.ok()) << f.status();
  const Tensor w = *(*f)->Get("w");
  ASSERT_EQ(w.dtype, DType::kBF16);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(w.as<uint16_t>()[i], F32ToBf16(f32[i]));
}

TEST_F(SafetensorsTest, WriterRejectsDuplicateNames) {
  float x = 1;
  const Tensor t = Tensor::Make(&x, DType::kF32, {1});
  const absl::Status s = WriteSafetensors(path_, {{"w", t}, {"w", t}});
  EXPECT_THAT(s.message(), HasSubstr("duplicate tensor name 'w'"));
}

}  // namespace
}  // namespace gqa
