// gqa-bench-gpu: the GPU benchmarks of issue 5, one mode per call (so a
// crash in one loses nothing else). bench/gpu/run_all.sh runs them all.
//
// usage: gqa-bench-gpu MODE [--csv FILE] [--copy-gbs X --gemm-tflops Y] ...
//   MODE: ceilings | attention | model (decode steps + prefill) | gqa
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/gpu/gpu_benches.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "flags/flag_parser.h"

namespace {

std::vector<int> ParseInts(const std::string& s) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    int v = 0;
    if (absl::SimpleAtoi(part, &v)) out.push_back(v);
  }
  return out;
}

// Positive sizes, and positions the model has RoPE angles for (past
// max_seq_len the kernels would read position 0's: wrong, not a failure).
absl::Status ValidateShapes(const std::string& mode, const gqa::bench::ModelBenchOptions& o,
                            const gqa::ModelConfig& config) {
  for (const auto& [name, list] :
       {std::pair{"--batches", &o.batches}, std::pair{"--contexts", &o.contexts},
        std::pair{"--kv-heads", &o.gqa_kv_heads}}) {
    if (list->empty() || *std::min_element(list->begin(), list->end()) <= 0) {
      return absl::InvalidArgumentError(std::string(name) + ": want positive integers, a,b,...");
    }
  }
  if (o.prompt_len <= 0 || o.gqa_context <= 0 || o.gqa_max_batch <= 0 || o.reps <= 0) {
    return absl::InvalidArgumentError("--prompt-len, --gqa-context, --gqa-max-batch, --reps: > 0");
  }
  // Query heads per KV head must be whole: the attention bench has 32 query
  // heads, the GQA comparison the preset's.
  const int n_heads =
      mode == "attention" ? gqa::bench::AttentionBenchOptions{}.n_heads : config.n_heads;
  for (const int kv : o.gqa_kv_heads) {
    if ((mode == "attention" || mode == "gqa") && n_heads % kv != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--kv-heads %d does not divide %d query heads", kv, n_heads));
    }
  }
  if (mode == "model" || mode == "gqa") {  // the lengths each mode runs
    const int longest =
        mode == "gqa"
            ? o.gqa_context
            : std::max(o.prompt_len, *std::max_element(o.contexts.begin(), o.contexts.end()));
    if (longest > config.max_seq_len) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "context %d exceeds the preset's %d positions", longest, config.max_seq_len));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gqa;
  std::string csv_path, prefill_csv_path, preset = "llama-3-8b", batches, contexts, kv_heads;
  float copy_gbs = 0, gemm_tflops = 0, utilization = 0.9f;
  int reps = 0, prompt_len = 2048, gqa_context = 4096, gqa_max_batch = 1024;
  FlagParser flags(
      "usage: gqa-bench-gpu ceilings|attention|model|gqa [flags]\n"
      "Without --copy-gbs/--gemm-tflops the ceilings are measured first.");
  flags.AddString("csv", &csv_path, "write the CSV rows here (default: none)");
  flags.AddString("prefill-csv", &prefill_csv_path, "model mode: the prefill row goes here");
  flags.AddString("preset", &preset, "model preset for model/gqa (dummy bf16 weights)");
  flags.AddString("batches", &batches, "comma-separated batch sizes");
  flags.AddString("contexts", &contexts, "comma-separated context lengths");
  flags.AddString("kv-heads", &kv_heads, "comma-separated KV head counts (attention, gqa)");
  flags.AddFloat("copy-gbs", &copy_gbs, "measured copy bandwidth, GB/s");
  flags.AddFloat("gemm-tflops", &gemm_tflops, "measured bf16 GEMM rate, TFLOP/s");
  flags.AddFloat("gpu-memory-utilization", &utilization, "share of device memory to plan with");
  flags.AddInt("reps", &reps, "timed repetitions (0: the mode's default)");
  flags.AddInt("prompt-len", &prompt_len, "prefill prompt length");
  flags.AddInt("gqa-context", &gqa_context, "context of the GQA comparison");
  flags.AddInt("gqa-max-batch", &gqa_max_batch, "GQA comparison: largest batch tried");
  if (absl::Status s = flags.Parse(argc, argv);
      !s.ok() || flags.help_requested() || flags.positional().size() != 1) {
    std::cerr << s.message() << "\n" << flags.Help();
    return s.ok() && flags.help_requested() ? 0 : 2;
  }
  const std::string mode = flags.positional()[0];
  bench::ModelBenchOptions mo;
  if (!batches.empty()) mo.batches = ParseInts(batches);
  if (!contexts.empty()) mo.contexts = ParseInts(contexts);
  if (!kv_heads.empty()) mo.gqa_kv_heads = ParseInts(kv_heads);
  if (reps > 0) mo.reps = reps;
  mo.gpu_memory_utilization = utilization;
  mo.prompt_len = prompt_len;
  mo.gqa_context = gqa_context;
  mo.gqa_max_batch = gqa_max_batch;
  absl::StatusOr<ModelConfig> config = PresetConfig(preset);
  absl::Status valid = config.ok() ? ValidateShapes(mode, mo, *config) : config.status();
  if (valid.ok() && mode != "ceilings" && mode != "attention" && mode != "model" && mode != "gqa") {
    valid = absl::InvalidArgumentError("unknown mode '" + mode + "'");
  }
  if (!valid.ok()) {  // before any device work, so a typo costs no GPU time
    std::cerr << "gqa-bench-gpu: " << valid.message() << "\n";
    return 2;
  }
  if (CudaDeviceCount() == 0) {
    std::cerr << "gqa-bench-gpu: no CUDA device\n";
    return 3;
  }
  absl::StatusOr<CudaDeviceInfo> info = GetCudaDeviceInfo(0);
  CudaBackendOptions options;
  options.activation_dtype = DType::kBF16;
  absl::StatusOr<std::unique_ptr<Backend>> backend = MakeCudaBackend(options);
  if (!info.ok() || !backend.ok()) {
    std::cerr << (info.ok() ? backend.status() : info.status()) << "\n";
    return 1;
  }
  std::printf("device: %s (sm_%d, %d SMs, %.1f GiB)\n\n", info->name.c_str(),
              info->compute_capability, info->num_sms, info->total_bytes / 1073741824.0);
  std::FILE* csv =
      csv_path.empty() ? std::fopen("/dev/null", "w") : std::fopen(csv_path.c_str(), "w");
  if (csv == nullptr) {
    std::cerr << "cannot write " << csv_path << "\n";
    return 1;
  }

  bench::Ceilings ceilings{copy_gbs, gemm_tflops};
  absl::Status status;
  if (mode == "ceilings" || ceilings.copy_gbs <= 0 || ceilings.gemm_tflops <= 0) {
    std::FILE* ceil_csv = mode == "ceilings" ? csv : std::fopen("/dev/null", "w");
    status = bench::MeasureCeilings(**backend, ceilings, ceil_csv);
    if (ceil_csv != csv) std::fclose(ceil_csv);
  }
  if (status.ok()) {
    if (mode == "attention") {
      bench::AttentionBenchOptions ao;
      if (!batches.empty()) ao.batches = mo.batches;  // parsed and validated above
      if (!contexts.empty()) ao.contexts = mo.contexts;
      if (!kv_heads.empty()) ao.kv_heads = mo.gqa_kv_heads;
      if (reps > 0) ao.reps = reps;
      status = bench::RunAttentionBench(**backend, ao, ceilings, csv);
    } else if (mode == "model") {
      std::FILE* prefill_csv = prefill_csv_path.empty() ? std::fopen("/dev/null", "w")
                                                        : std::fopen(prefill_csv_path.c_str(), "w");
      status = prefill_csv == nullptr
                   ? absl::InvalidArgumentError("cannot write " + prefill_csv_path)
                   : bench::RunModelBench(**backend, *config, mo, ceilings, csv, prefill_csv);
      if (prefill_csv != nullptr) std::fclose(prefill_csv);
    } else if (mode == "gqa") {
      status = bench::RunGqaBench(**backend, *config, mo, ceilings, csv);
    }
  }
  std::fclose(csv);
  if (!status.ok()) {
    std::cerr << "gqa-bench-gpu " << mode << ": " << status << "\n";
    return 1;
  }
  return 0;
}
