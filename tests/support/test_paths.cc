#include "tests/support/test_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <random>

namespace gqa::testing {

std::optional<std::filesystem::path> SharedModelsDir() {
  const char* env = std::getenv("GQA_SHARED_DIR");
  std::filesystem::path dir = env ? std::filesystem::path(env) / "models" : "../shared/models";
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return dir;
  return std::nullopt;
}

ScratchDir::ScratchDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("gqa-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace gqa::testing
