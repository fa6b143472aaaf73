// Where tests find ../shared/models and where they may write scratch files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gqa::testing {

// ../shared/models beside the checkout (from $GQA_SHARED_DIR, set by CTest),
// or nullopt when absent: tests that need it GTEST_SKIP() then.
std::optional<std::filesystem::path> SharedModelsDir();

// A fresh, empty directory, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace gqa::testing
