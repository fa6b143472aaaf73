// Replays one fuzz target's committed inputs (fuzz/corpus/<target> and
// fuzz/regressions/<target>) through its LLVMFuzzerTestOneInput, compiled into
// this test without libFuzzer: an input that ever crashed a target stays a
// test. A crash, a sanitizer report (in a sanitizer build) or a trap fails it;
// each input's path is printed to stderr first, so a crash names its input.
//
// Reproducing a crash without clang: GQA_FUZZ_INPUTS=FILE_OR_DIR[:...] runs
// those inputs too (the FromEnvironment test), e.g.
//   GQA_FUZZ_INPUTS=crash-1234 build/h7/tests/fuzz/gguf_fuzz_replay_test
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace gqa::testing {
namespace {

namespace fs = std::filesystem;

// Every regular file under `dir` (recursively), sorted; none when it is
// absent; `dir` itself when it is a file.
std::vector<fs::path> FilesUnder(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) return {dir};
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int Replay(const std::vector<fs::path>& files) {
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::fprintf(stderr, "replaying %s\n", file.string().c_str());
    const std::string bytes = ReadFile(file);
    // A copy the exact size of the input, as libFuzzer passes it, so an
    // over-read is past the end of an allocation.
    std::vector<uint8_t> input(bytes.begin(), bytes.end());
    EXPECT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0);
  }
  return static_cast<int>(files.size());
}

const fs::path kFuzzDir = GQA_FUZZ_DIR;

TEST(FuzzReplayTest, SeedCorpus) {
  // Every target has seeds: an empty corpus means a misnamed directory.
  EXPECT_GT(Replay(FilesUnder(kFuzzDir / "corpus" / GQA_FUZZ_TARGET)), 0);
}

TEST(FuzzReplayTest, Regressions) {
  Replay(FilesUnder(kFuzzDir / "regressions" / GQA_FUZZ_TARGET));
}

TEST(FuzzReplayTest, FromEnvironment) {
  const char* inputs = std::getenv("GQA_FUZZ_INPUTS");
  if (inputs == nullptr || *inputs == '\0') GTEST_SKIP() << "GQA_FUZZ_INPUTS is not set";
  std::vector<fs::path> files;
  std::string list = inputs;
  for (size_t start = 0; start <= list.size();) {
    const size_t end = std::min(list.find(':', start), list.size());
    if (end > start) {
      for (fs::path& f : FilesUnder(list.substr(start, end - start))) files.push_back(std::move(f));
    }
    start = end + 1;
  }
  EXPECT_GT(Replay(files), 0) << "no file in GQA_FUZZ_INPUTS=" << inputs;
}

// The empty input and a few degenerate ones, which every target must take.
TEST(FuzzReplayTest, DegenerateInputs) {
  for (const std::string& s : {std::string(), std::string(1, '\0'), std::string(64, '\xff'),
                               std::string("{}"), std::string("GGUF")}) {
    std::vector<uint8_t> input(s.begin(), s.end());
    EXPECT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0);
  }
}

}  // namespace
}  // namespace gqa::testing
