// CPU decode and prefill throughput of the engine on dummy weights, as a
// fraction of the machine's measured memory read bandwidth.
//
// Decode reads every weight once per step plus each sequence's KV cache, so
// model-bandwidth utilization = (weight bytes + KV bytes read) / step time /
// measured bandwidth. Prefill is reported in tokens/s.
//
// usage: gqa-bench-cpu [--presets stories15m,stories110m] [--threads N]
//                      [--decode-steps N] [--prompt-len N]
#include <chrono>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_split.h"
#include "bench/common/memory_bandwidth.h"
#include "engine/model/dummy_weights.h"
#include "engine/runner/llm_engine.h"
#include "flags/flag_parser.h"

namespace gqa::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string preset;
  std::string phase;
  int batch;
  double tokens_per_s;
  double bytes_per_step;  // decode only
  double seconds_per_step;
};

GenerationRequest Request(int id, int prompt_len, int max_tokens, int vocab) {
  GenerationRequest r;
  r.request_id = std::to_string(id);
  for (int i = 0; i < prompt_len; ++i)
    r.prompt_token_ids.push_back(3 + (i * 7 + id * 13) % (vocab - 3));
  r.sampling.temperature = 0;
  r.stopping.max_tokens = max_tokens;
  r.stopping.ignore_eos = true;
  return r;
}

// Time of one whole-prompt prefill step, best of three.
Row Prefill(const ModelWeights& w, const std::string& preset, int threads, int prompt_len) {
  EngineConfig c;
  c.max_num_seqs = 1;
  c.max_num_batched_tokens = prompt_len;
  auto engine = *LlmEngine::Create(w, MakeCpuBackend(threads), c);
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    (void)engine->AddRequest(Request(rep, prompt_len, 1, w.config.vocab_size));
    const auto t0 = Clock::now();
    while (engine->HasUnfinished()) engine->Step();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return Row{preset, "prefill " + std::to_string(prompt_len), 1, prompt_len / best, 0, best};
}

// Mean decode step of `batch` sequences after their prompts are in the cache.
Row Decode(const ModelWeights& w, const std::string& preset, int threads, int batch, int prompt_len,
           int steps) {
  EngineConfig c;
  c.max_num_seqs = batch;
  c.max_num_batched_tokens = std::max(batch, prompt_len * batch);
  auto engine = *LlmEngine::Create(w, MakeCpuBackend(threads), c);
  for (int i = 0; i < batch; ++i) {
    (void)engine->AddRequest(Request(i, prompt_len, steps + 1, w.config.vocab_size));
  }
  engine->Step();  // every prompt, and the first token of each
  const ModelConfig& m = w.config;
  const double kv_bytes_per_token = static_cast<double>(m.KvBytesPerToken(DType::kF32));
  double kv_bytes = 0;
  const auto t0 = Clock::now();
  for (int s = 0; s < steps; ++s) {
    kv_bytes += batch * (prompt_len + 1 + s) * kv_bytes_per_token;  // context read by attention
    engine->Step();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count() / steps;
  const double bytes = static_cast<double>(engine->info().weight_bytes) + kv_bytes / steps;
  return Row{preset, "decode", batch, batch / seconds, bytes, seconds};
}

}  // namespace
}  // namespace gqa::bench

int main(int argc, char** argv) {
  using namespace gqa;
  std::string presets = "stories15m,stories110m";
  int threads = 0, steps = 32, prompt_len = 128;
  FlagParser flags(
      "usage: gqa-bench-cpu [--presets a,b] [--threads N] [--decode-steps N] [--prompt-len N]");
  flags.AddString("presets", &presets, "comma-separated model presets");
  flags.AddInt("threads", &threads, "CPU threads (0: all)");
  flags.AddInt("decode-steps", &steps, "decode steps timed per measurement");
  flags.AddInt("prompt-len", &prompt_len, "prompt tokens (prefill and decode context)");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << s.message() << "\n" << flags.Help();
    return s.ok() ? 0 : 2;
  }
  const double bandwidth = bench::MeasureReadBandwidth();
  std::printf("measured memory read bandwidth: %.2f GB/s\n\n", bandwidth / 1e9);
  std::printf(
      "| model | phase | batch | tokens/s | ms/step | bytes/step (MB) | %% of bandwidth |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (absl::string_view name : absl::StrSplit(presets, ',')) {
    absl::StatusOr<ModelConfig> config = PresetConfig(std::string(name));
    if (!config.ok()) {
      std::cerr << config.status().message() << "\n";
      return 2;
    }
    const ModelWeights w = *MakeDummyWeights(*config, DType::kF32, 1);
    std::vector<bench::Row> rows = {bench::Prefill(w, std::string(name), threads, prompt_len)};
    for (int batch : {1, 16}) {
      rows.push_back(bench::Decode(w, std::string(name), threads, batch, prompt_len, steps));
    }
    for (const bench::Row& r : rows) {
      if (r.bytes_per_step > 0) {
        std::printf("| %s | %s | %d | %.1f | %.2f | %.1f | %.0f%% |\n", r.preset.c_str(),
                    r.phase.c_str(), r.batch, r.tokens_per_s, r.seconds_per_step * 1e3,
                    r.bytes_per_step / 1e6,
                    100 * r.bytes_per_step / r.seconds_per_step / bandwidth);
      } else {
        std::printf("| %s | %s | %d | %.1f | %.2f | - | - |\n", r.preset.c_str(), r.phase.c_str(),
                    r.batch, r.tokens_per_s, r.seconds_per_step * 1e3);
      }
    }
  }
  return 0;
}
