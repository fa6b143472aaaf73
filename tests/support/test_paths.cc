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

std::optional<std::string> DefaultModelGguf() {
  namespace fs = std::filesystem;
  fs::path path;
  if (const char* env = std::getenv("GQA_DEFAULT_MODEL_GGUF"); env && *env) {
    path = env;
  } else {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg) {
      path = fs::path(xdg) / "gqa-serve";
    } else if (home && *home) {
      path = fs::path(home) / ".cache" / "gqa-serve";
    } else {
      return std::nullopt;
    }
    path /= "SmolLM2-135M-Instruct.Q4_1.gguf";
  }
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return path.string();
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
