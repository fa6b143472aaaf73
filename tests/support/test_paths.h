// Where tests find ../shared/models and where they may write scratch files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gqa::testing {

// ../shared/models beside the checkout (from $GQA_SHARED_DIR, set by CTest),
// or nullopt when absent: tests that need it GTEST_SKIP() then.
std::optional<std::filesystem::path> SharedModelsDir();

// The default model's GGUF (SmolLM2-135M-Instruct, fetched by
// scripts/fetch_default_model.sh, which scripts/test.sh runs): $GQA_DEFAULT_MODEL_GGUF,
// else ${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve/SmolLM2-135M-Instruct.Q4_1.gguf;
// nullopt when that file is absent: tests that need it GTEST_SKIP() then.
std::optional<std::string> DefaultModelGguf();

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
