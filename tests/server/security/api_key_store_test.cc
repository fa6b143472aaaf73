// ApiKeyStore: the file format, the Bearer check, reloads (file change,
// SIGHUP, a failed reload) and that keys never reach the log or errors.
#include "server/auth/api_key_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/support/test_paths.h"

namespace gqa {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Replaces the file atomically (a new inode, as editors and config managers do).
void Replace(const std::string& path, const std::string& text) {
  Write(path + ".new", text);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

ApiKeyStore::Options EveryCall(std::ostream* log = nullptr) {
  return {.recheck_interval = std::chrono::nanoseconds(0), .log = log};
}

ApiKeyStore::Options Never(std::ostream* log = nullptr) {
  return {.recheck_interval = std::chrono::hours(24), .log = log};
}

TEST(ApiKeyStoreTest, ReadsOneKeyPerLineSkippingBlanksAndComments) {
  testing::ScratchDir dir;
  const std::string path = dir.File("keys");
  Write(path, "# production keys\n\nalpha-key-1\r\n   beta key 2  \n#gamma\n\t\n");
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store = ApiKeyStore::Open(path, Never());
  ASSERT_TRUE(store.ok()) << store.status();
  ApiKeyStore& keys = **store;
  EXPECT_EQ(keys.num_keys(), 2u);
  EXPECT_TRUE(keys.Check("Bearer alpha-key-1"));
  EXPECT_TRUE(keys.Check("Bearer beta key 2"));  // inner spaces are part of the key
  EXPECT_FALSE(keys.Check("Bearer #gamma"));
  EXPECT_FALSE(keys.Check("Bearer # production keys"));
  EXPECT_FALSE(keys.Check("Bearer "));
}

TEST(ApiKeyStoreTest, ChecksTheBearerSchemeAndTheWholeKey) {
  testing::ScratchDir dir;
  const std::string path = dir.File("keys");
  Write(path, "s3cret\n");
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store = ApiKeyStore::Open(path, Never());
  ASSERT_TRUE(store.ok()) << store.status();
  ApiKeyStore& keys = **store;
  EXPECT_TRUE(keys.Check("Bearer s3cret"));
  EXPECT_TRUE(keys.Check("bearer s3cret"));  // the scheme is case-insensitive
  EXPECT_TRUE(keys.Check("BEARER   s3cret "));
  EXPECT_FALSE(keys.Check("s3cret"));          // no scheme
  EXPECT_FALSE(keys.Check("Basic s3cret"));    // another scheme
  EXPECT_FALSE(keys.Check("Bearers3cret"));    // no space
  EXPECT_FALSE(keys.Check("Bearer s3cre"));    // a prefix of the key
  EXPECT_FALSE(keys.Check("Bearer s3cretx"));  // the key and more
  EXPECT_FALSE(keys.Check("Bearer S3CRET"));   // keys are case-sensitive
  EXPECT_FALSE(keys.Check(""));
  EXPECT_FALSE(keys.Check("Bearer"));
}

TEST(ApiKeyStoreTest, StartupErrorsNameTheFileButNeverItsContent) {
  testing::ScratchDir dir;
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> missing =
      ApiKeyStore::Open(dir.File("absent"), Never());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("--api-key-file " + dir.File("absent")));

  const std::string empty = dir.File("empty");
  Write(empty, "# not-a-key-but-secret-looking\n\n");
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> none = ApiKeyStore::Open(empty, Never());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("holds no key"));
  EXPECT_THAT(none.status().message(), Not(HasSubstr("secret-looking")));

  EXPECT_EQ(ApiKeyStore::Open(dir.path().string(), Never()).status().code(),
            absl::StatusCode::kInvalidArgument);  // a directory
}

TEST(ApiKeyStoreTest, ReloadsWhenTheFileChanges) {
  testing::ScratchDir dir;
  const std::string path = dir.File("keys");
  Write(path, "old-key\n");
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store = ApiKeyStore::Open(path, EveryCall(&log));
  ASSERT_TRUE(store.ok()) << store.status();
  ApiKeyStore& keys = **store;
  EXPECT_TRUE(keys.Check("Bearer old-key"));

  Replace(path, "new-key-1\nnew-key-2\n");
  EXPECT_FALSE(keys.Check("Bearer old-key"));  // this call noticed the change
  EXPECT_TRUE(keys.Check("Bearer new-key-1"));
  EXPECT_TRUE(keys.Check("Bearer new-key-2"));
  EXPECT_EQ(keys.num_keys(), 2u);

  // In place (same inode, another size).
  Write(path, "in-place-key\n");
  EXPECT_TRUE(keys.Check("Bearer in-place-key"));
  EXPECT_FALSE(keys.Check("Bearer new-key-1"));

  // A file emptied of keys locks everyone out (revocation).
  Replace(path, "# all revoked\n");
  EXPECT_FALSE(keys.Check("Bearer in-place-key"));
  EXPECT_EQ(keys.num_keys(), 0u);

  EXPECT_THAT(log.str(), HasSubstr("reloaded"));
  for (const char* key : {"old-key", "new-key", "in-place-key"}) {
    EXPECT_THAT(log.str(), Not(HasSubstr(key)));
  }
}

TEST(ApiKeyStoreTest, BetweenRechecksTheKeysStay) {
  testing::ScratchDir dir;
  const std::string path = dir.File("keys");
  Write(path, "first\n");
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store = ApiKeyStore::Open(path, Never());
  ASSERT_TRUE(store.ok()) << store.status();
  Replace(path, "second\n");
  EXPECT_TRUE((*store)->Check("Bearer first"));  // not re-stat'ed within the interval
  ASSERT_TRUE((*store)->Reload().ok());
  EXPECT_TRUE((*store)->Check("Bearer second"));
  EXPECT_FALSE((*store)->Check("Bearer first"));
}

TEST(ApiKeyStoreTest, AFailedReloadKeepsTheKeys) {
  testing::ScratchDir dir;
  const std::string path = dir.File("keys");
  Write(path, "kept-key\n");
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store = ApiKeyStore::Open(path, EveryCall(&log));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ(std::remove(path.c_str()), 0);
  EXPECT_TRUE((*store)->Check("Bearer kept-key"));
  EXPECT_EQ((*store)->Reload().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*store)->Check("Bearer kept-key"));
  EXPECT_THAT(log.str(), HasSubstr("keeping the 1 keys"));
  EXPECT_THAT(log.str(), Not(HasSubstr("kept-key")));
}

TEST(ApiKeyStoreTest, SighupReloadsAtTheNextCheck) {
  testing::ScratchDir dir;
  const std::string path = dir.File("keys");
  Write(path, "before-hup\n");
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store = ApiKeyStore::Open(path, Never());
  ASSERT_TRUE(store.ok()) << store.status();
  ApiKeyStore::ReloadOnSighup();
  Replace(path, "after-hup\n");
  EXPECT_TRUE((*store)->Check("Bearer before-hup"));  // no re-stat for a day
  ASSERT_EQ(std::raise(SIGHUP), 0);                   // handled: the process goes on
  EXPECT_TRUE((*store)->Check("Bearer after-hup"));
  EXPECT_FALSE((*store)->Check("Bearer before-hup"));
}

}  // namespace
}  // namespace gqa
