// gqa-tokenizer-bench: times loading an HF tokenizer and encoding one text
// with it (bench/tokenizer/compare_encode_speed.py runs it next to HF's
// `tokenizers` on the same text and writes bench/results/tokenizer_encode.md).
//
//   gqa-tokenizer-bench --tokenizer=MODEL_DIR --text=FILE [--repeats=5] [--ids=OUT]
//
// Prints one JSON line: load seconds, text bytes, token count, the first
// (cold) encode and the best of the repeats, in seconds. Each Encode call
// starts with an empty word cache, so every repeat is as cold as the first;
// --ids writes the token ids, one per line, to check them against HF.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/tokenizer/hf/hf_tokenizer.h"

namespace {

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
  }
  return fallback;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = Flag(argc, argv, "tokenizer", "");
  const std::string text_path = Flag(argc, argv, "text", "");
  const int repeats = std::max(1, std::stoi(Flag(argc, argv, "repeats", "5")));
  if (dir.empty() || text_path.empty()) {
    std::cerr
        << "usage: gqa-tokenizer-bench --tokenizer=DIR --text=FILE [--repeats=N] [--ids=OUT]\n";
    return 2;
  }
  std::ifstream in(text_path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  auto start = std::chrono::steady_clock::now();
  auto tokenizer = gqa::LoadHfTokenizer(dir);
  const double load_s = Seconds(start);
  if (!tokenizer.ok()) {
    std::cerr << tokenizer.status() << "\n";
    return 2;
  }
  std::vector<int> ids;
  double first_s = 0, best_s = 1e30;
  for (int r = 0; r < repeats; ++r) {
    start = std::chrono::steady_clock::now();
    ids = (*tokenizer)->Encode(text, /*add_special_tokens=*/false);
    const double s = Seconds(start);
    if (r == 0) first_s = s;
    best_s = std::min(best_s, s);
  }
  if (const std::string ids_path = Flag(argc, argv, "ids", ""); !ids_path.empty()) {
    std::ofstream out(ids_path);
    for (const int id : ids) out << id << "\n";
  }
  std::printf(
      "{\"load_s\": %.6f, \"bytes\": %zu, \"tokens\": %zu, \"encode_first_s\": %.6f, "
      "\"encode_best_s\": %.6f, \"repeats\": %d}\n",
      load_s, text.size(), ids.size(), first_s, best_s, repeats);
  return 0;
}
