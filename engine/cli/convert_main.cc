// gqa-convert: turn an MHA (or GQA) checkpoint into one with fewer KV heads by
// mean-pooling each group of K/V heads (Ainslie et al. 2023), or by the
// paper's two baselines: the first head of each group, or random heads.
//
//   gqa-convert --kv-heads G [--method mean|first|random] [--seed S]
//               [--dtype f32|f16|bf16] IN OUT
//
// IN: an HF directory, a GGUF file (quantized tensors dequantized) or a
// llama2.c .bin file. OUT: a .bin path writes llama2.c (fp32), anything else
// an HF directory (config.json + model.safetensors, plus IN's tokenizer files
// when IN is an HF directory, or tokenizer.json, tokenizer_config.json and
// generation_config.json built from a GGUF's vocabulary: convert_tokenizer.h).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "engine/cli/convert_tokenizer.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/gqa_convert.h"
#include "engine/model/hf_loader.h"
#include "engine/model/llama2c_loader.h"
#include "engine/model/model_loader.h"
#include "flags/flag_parser.h"

namespace gqa {
namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] =
    "usage: gqa-convert --kv-heads G [--method mean|first|random] [--seed S]\n"
    "                   [--dtype f32|f16|bf16] IN OUT\n"
    "  Gives the model G KV heads: each new K/V head is the mean of its group of old heads\n"
    "  (default), the group's first head, or random (N(0, rms^2) of the old tensor, --seed).\n"
    "  IN: HF directory, GGUF (dequantized) or llama2.c .bin.\n"
    "  OUT ending in .bin: llama2.c (f32); else an HF directory (safetensors).\n";

struct Args {
  int kv_heads = 0;
  KvConvertOptions convert;
  std::optional<DType> dtype;
  std::string in, out;
};

// Parses argv; error messages are ready to print.
absl::StatusOr<Args> ParseArgs(int argc, char** argv, bool* help) {
  Args a;
  std::string dtype, method = "mean";
  std::optional<uint64_t> seed;
  FlagParser flags(kUsage);
  flags.AddInt("kv-heads", &a.kv_heads, "KV heads of the output (divides the input's count)");
  flags.AddString("method", &method, "mean (default), first or random");
  flags.AddUint64("seed", &seed, "seed of --method random (default 0)");
  flags.AddString("dtype", &dtype, "output dtype: f32, f16, bf16 (default: the input's)");
  GQA_RETURN_IF_ERROR(flags.Parse(argc, argv));
  *help = flags.help_requested();
  if (*help) return a;
  if (!dtype.empty()) {
    GQA_ASSIGN_OR_RETURN(a.dtype, ParseDType(dtype));
  }
  GQA_ASSIGN_OR_RETURN(a.convert.init, ParseKvHeadInit(method));
  a.convert.seed = seed.value_or(0);
  if (a.kv_heads < 1) return absl::InvalidArgumentError("--kv-heads must be a positive integer");
  if (flags.positional().size() != 2)
    return absl::InvalidArgumentError("expected IN and OUT paths");
  a.in = flags.positional()[0];
  a.out = flags.positional()[1];
  return a;
}

void CopyTokenizerFiles(const fs::path& from, const fs::path& to) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                           "special_tokens_map.json", "generation_config.json"}) {
    std::error_code ec;
    if (!fs::exists(from / name, ec)) continue;
    fs::copy_file(from / name, to / name, fs::copy_options::overwrite_existing, ec);
    if (ec)
      std::fprintf(stderr, "gqa-convert: warning: could not copy %s: %s\n", name,
                   ec.message().c_str());
  }
}

absl::Status Run(const Args& a) {
  ModelSource source;
  source.path = a.in;
  GQA_ASSIGN_OR_RETURN(ModelWeights in, LoadModel(source));
  const bool out_llama2c = absl::EndsWith(a.out, ".bin");
  const DType dtype = a.dtype.value_or(out_llama2c ? DType::kF32 : in.config.dtype);
  if (out_llama2c && dtype != DType::kF32) {
    return absl::InvalidArgumentError(
        "llama2.c files are f32 only; drop --dtype or write an HF dir");
  }
  GQA_ASSIGN_OR_RETURN(ModelWeights out, ConvertKvHeads(in, a.kv_heads, a.convert));
  if (out_llama2c) {
    GQA_RETURN_IF_ERROR(SaveLlama2c(out, a.out));
  } else {
    GQA_RETURN_IF_ERROR(SaveHfModel(out, a.out, dtype));
    std::error_code ec;
    if (fs::is_directory(a.in, ec)) {
      CopyTokenizerFiles(a.in, a.out);
    } else if (gguf::IsGgufFile(a.in)) {
      if (absl::Status s = WriteHfTokenizerFromGguf(a.in, a.out); !s.ok()) {
        std::fprintf(stderr, "gqa-convert: warning: no tokenizer files: %s\n",
                     std::string(s.message()).c_str());
      }
    }
  }
  const ModelConfig& c0 = in.config;
  const ModelConfig& c1 = out.config;
  const size_t kv0 = c0.KvBytesPerToken(dtype), kv1 = c1.KvBytesPerToken(dtype);
  std::printf("gqa-convert: %s -> %s (%s, %s)\n", a.in.c_str(), a.out.c_str(),
              out_llama2c ? "llama2.c" : "HF safetensors", std::string(DTypeName(dtype)).c_str());
  std::printf("  %d layers, %d query heads, head_dim %d\n", c1.n_layers, c1.n_heads, c1.head_dim);
  std::printf("  KV heads %d -> %d (query heads per KV head G %d -> %d)\n", c0.n_kv_heads,
              c1.n_kv_heads, c0.group_size(), c1.group_size());
  std::printf("  KV cache per token at %s: %zu -> %zu bytes (%.1fx smaller)\n",
              std::string(DTypeName(dtype)).c_str(), kv0, kv1, static_cast<double>(kv0) / kv1);
  static constexpr const char* kMethodText[] = {"mean-pooled", "taken from each group's first",
                                                "initialized at random"};
  if (c1.n_kv_heads != c0.n_kv_heads || a.convert.init == KvHeadInit::kRandom) {
    std::printf("  K/V heads were %s; uptrain (~5%% of pre-training) to recover quality\n",
                kMethodText[static_cast<int>(a.convert.init)]);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace gqa

int main(int argc, char** argv) {
  bool help = false;
  absl::StatusOr<gqa::Args> args = gqa::ParseArgs(argc, argv, &help);
  if (help) {
    std::fputs(gqa::kUsage, stdout);
    return 0;
  }
  if (!args.ok()) {
    std::fprintf(stderr, "gqa-convert: %s\n%s", std::string(args.status().message()).c_str(),
                 gqa::kUsage);
    return 2;
  }
  if (absl::Status s = gqa::Run(*args); !s.ok()) {
    std::fprintf(stderr, "gqa-convert: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
