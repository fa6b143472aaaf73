#include "engine/common/mmap_file.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;

TEST(MappedFileTest, MapsContents) {
  testing::ScratchDir dir;
  const std::string path = dir.File("data.bin");
  std::ofstream(path, std::ios::binary) << std::string("hello\0world", 11);
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->size(), 11u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*f)->data()), 11),
            std::string("hello\0world", 11));
  EXPECT_EQ((*f)->path(), path);
}

TEST(MappedFileTest, EmptyFileHasNoData) {
  testing::ScratchDir dir;
  const std::string path = dir.File("empty");
  std::ofstream(path, std::ios::binary).close();
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->size(), 0u);
  EXPECT_EQ((*f)->data(), nullptr);
}

TEST(MappedFileTest, MissingFileIsNotFoundNamingPath) {
  testing::ScratchDir dir;
  const std::string path = dir.File("nope.bin");
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(f.status().message(), HasSubstr(path));
}

TEST(MappedFileTest, DirectoryIsAnError) {
  testing::ScratchDir dir;
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(dir.path().string());
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr(dir.path().string()));
}

TEST(MappedFileTest, MappingOutlivesOtherOwners) {
  testing::ScratchDir dir;
  const std::string path = dir.File("x");
  std::ofstream(path, std::ios::binary) << "abc";
  std::shared_ptr<const void> keep;
  {
    auto f = MappedFile::Open(path);
    ASSERT_TRUE(f.ok());
    keep = *f;  // as ModelWeights::storage holds it
  }
  EXPECT_EQ(static_cast<const MappedFile*>(keep.get())->data()[2], 'c');
}

}  // namespace
}  // namespace gqa
