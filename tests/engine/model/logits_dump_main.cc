// gqa-logits-dump: runs a model over given token ids (one sequence, one
// forward pass) and writes the logits of every position as raw little-endian
// fp32 [n, vocab] to --out, and "n vocab" on stdout. Used by
// tests/engine/model/compare_with_reference.py (the real model against a NumPy
// reference) and bench/gpu/hf_parity.py (random models against HF
// transformers' LlamaForCausalLM). Built with the tests, whatever
// GQA_BUILD_BENCH is.
//
// usage: gqa-logits-dump --model PATH --ids 1,2,3 --out FILE [--backend cpu|cuda] [--dtype bf16]
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/backend/backend.h"
#include "engine/common/status_macros.h"
#include "engine/model/model_loader.h"
#include "flags/flag_parser.h"
#include "tests/engine/runner/prompt_logits.h"
#ifdef GQA_HAVE_CUDA
#include "engine/backend/cuda/cuda_backend.h"
#endif

namespace gqa {
namespace {

absl::StatusOr<std::unique_ptr<Backend>> MakeBackend(const std::string& name,
                                                     const std::string& dtype) {
  if (name == "cpu") return MakeCpuBackend(0);
#ifdef GQA_HAVE_CUDA
  if (name == "cuda") {
    CudaBackendOptions options;
    GQA_ASSIGN_OR_RETURN(options.activation_dtype, ParseDType(dtype));
    return MakeCudaBackend(options);
  }
#endif
  return absl::InvalidArgumentError("--backend: '" + name + "' is not built in");
}

absl::Status Run(const std::string& model_dir, const std::string& backend_name,
                 const std::string& dtype, const std::vector<int32_t>& ids,
                 const std::string& out) {
  ModelSource source;
  source.path = model_dir;
  GQA_ASSIGN_OR_RETURN(const ModelWeights weights, LoadModel(source));
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, MakeBackend(backend_name, dtype));
  GQA_ASSIGN_OR_RETURN(const std::vector<float> f32, testing::PromptLogits(weights, *backend, ids));
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) return absl::InvalidArgumentError("--out: cannot write " + out);
  const size_t written = std::fwrite(f32.data(), sizeof(float), f32.size(), f);
  std::fclose(f);
  if (written != f32.size()) return absl::InternalError("short write to " + out);
  std::printf("%d %d\n", static_cast<int>(ids.size()), weights.config.vocab_size);
  return absl::OkStatus();
}

}  // namespace
}  // namespace gqa

int main(int argc, char** argv) {
  std::string model, ids_text, out, backend = "cpu", dtype = "bf16";
  gqa::FlagParser flags(
      "usage: gqa-logits-dump --model PATH --ids 1,2,3 --out FILE [--backend cpu|cuda] [--dtype "
      "bf16|f16|f32]");
  flags.AddString("model", &model, "model: any path --model of gqa-generate takes");
  flags.AddString("ids", &ids_text, "comma-separated token ids");
  flags.AddString("out", &out, "output file: fp32 [n, vocab]");
  flags.AddString("backend", &backend, "cpu or cuda");
  flags.AddString("dtype", &dtype, "activation dtype of the cuda backend");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << s.message() << "\n" << flags.Help();
    return s.ok() ? 0 : 2;
  }
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(ids_text, ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v)) {
      std::cerr << "--ids: '" << std::string(part) << "' is not an integer\n";
      return 2;
    }
    ids.push_back(v);
  }
  if (model.empty() || ids.empty() || out.empty()) {
    std::cerr << flags.Help();
    return 2;
  }
  if (absl::Status s = gqa::Run(model, backend, dtype, ids, out); !s.ok()) {
    std::cerr << "gqa-logits-dump: " << s << "\n";
    return 1;
  }
  return 0;
}
