// gqa-tokenizer-bench: times loading an HF tokenizer and encoding one text
// with it (bench/tokenizer/compare_encode_speed.py runs it next to HF's
// `tokenizers` on the same text and writes bench/results/tokenizer_encode.md).
//
//   gqa-tokenizer-bench --tokenizer=MODEL_DIR --text=FILE [--ids=OUT] [--benchmark_...]
//
// A Google Benchmark program with two benchmarks, "load" and "encode", each
// one call per repetition (--benchmark_repetitions, default 5), so the
// first repetition is the cold call and the "min" aggregate the best;
// counters: the text's bytes and its token count. Each Encode call starts with
// an empty word cache, so every repetition is as cold as the first. --ids
// writes the token ids, one per line, to check them against HF.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "benchmark/benchmark.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"

ABSL_FLAG(std::string, tokenizer, "", "HF model directory with tokenizer.json");
ABSL_FLAG(std::string, text, "", "text file to encode");
ABSL_FLAG(std::string, ids, "", "write the token ids here, one per line");

namespace {

void BM_Load(benchmark::State& state, const std::string& dir) {
  for (auto _ : state) {
    auto tokenizer = gqa::LoadHfTokenizer(dir);
    if (!tokenizer.ok()) {
      state.SkipWithError(tokenizer.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(tokenizer);
  }
}

void BM_Encode(benchmark::State& state, const gqa::Tokenizer& tokenizer, const std::string& text) {
  size_t tokens = 0;
  for (auto _ : state) {
    const std::vector<int> ids = tokenizer.Encode(text, /*add_special_tokens=*/false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["bytes"] = static_cast<double>(text.size());
  state.counters["tokens"] = static_cast<double>(tokens);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace

int main(int argc, char** argv) {
  // Our default goes first, so the same flag on the command line wins.
  std::vector<char*> args = {argv[0]};
  char repetitions[] = "--benchmark_repetitions=5";
  args.push_back(repetitions);
  args.insert(args.end(), argv + 1, argv + argc);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  absl::ParseCommandLine(n, args.data());
  const std::string dir = absl::GetFlag(FLAGS_tokenizer);
  const std::string text_path = absl::GetFlag(FLAGS_text);
  if (dir.empty() || text_path.empty()) {
    std::cerr << "usage: gqa-tokenizer-bench --tokenizer=DIR --text=FILE [--ids=OUT] "
                 "[--benchmark_...]\n";
    return 2;
  }
  std::ifstream in(text_path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << text_path << "\n";
    return 2;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  absl::StatusOr<std::unique_ptr<gqa::Tokenizer>> tokenizer = gqa::LoadHfTokenizer(dir);
  if (!tokenizer.ok()) {
    std::cerr << tokenizer.status() << "\n";
    return 2;
  }

  // One call per repetition: the first repetition is the cold one.
  benchmark::RegisterBenchmark("load", BM_Load, dir)
      ->Iterations(1)
      ->ComputeStatistics("min", Min)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("encode", BM_Encode, std::cref(**tokenizer), std::cref(text))
      ->Iterations(1)
      ->ComputeStatistics("min", Min)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  if (const std::string ids_path = absl::GetFlag(FLAGS_ids); !ids_path.empty()) {
    std::ofstream out(ids_path);
    for (const int id : (*tokenizer)->Encode(text, /*add_special_tokens=*/false)) out << id << "\n";
  }
  return 0;
}
