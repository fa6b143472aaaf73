#include "engine/tokenizer/gguf/gguf_pre_tokenizers.h"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

using nlohmann::json;

// GPT-2's split (HF ByteLevel use_regex; llama.cpp's lacks HF's final "|\s+",
// which changes nothing: a lone whitespace it leaves unmatched is its own piece).
constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json ByteLevel(bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", false},
          {"trim_offsets", true},
          {"use_regex", use_regex}};
}

json Split(const char* regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

json Sequence(std::vector<json> steps) {
  json out = {{"type", "Sequence"}, {"pretokenizers", json::array()}};
  for (json& step : steps) out["pretokenizers"].push_back(std::move(step));
  return out;
}

bool NameIn(std::string_view pre, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), pre) != names.end();
}

}  // namespace

absl::StatusOr<GgufPreTokenizer> GgufBytePreTokenizer(std::string_view pre,
                                                      const std::string& where) {
  GgufPreTokenizer out;
  if (NameIn(pre, {"smollm", "starcoder", "refact", "codeshell"})) {
    out.pre_tokenizer =
        Sequence({{{"type", "Digits"}, {"individual_digits", true}}, ByteLevel(true)});
  } else if (NameIn(pre, {"llama-bpe", "llama3", "llama-v3", "falcon3"})) {
    out.pre_tokenizer = Sequence({Split(kLlama3Regex), ByteLevel(false)});
    out.ignore_merges = true;
    out.add_bos_default = true;
  } else if (NameIn(pre, {"qwen2", "deepseek-r1-qwen"})) {
    out.normalizer = {{"type", "NFC"}};
    out.pre_tokenizer = Sequence({Split(kQwen2Regex), ByteLevel(false)});
  } else if (NameIn(pre, {"gpt2", "gpt-2", "phi-2"})) {
    out.pre_tokenizer = ByteLevel(true);
  } else if (NameIn(pre, {"default", ""})) {
    out.pre_tokenizer = Sequence({Split(R"([\p{P}\$\+<=>\^~\|]+)"), Split(kGpt2Regex),
                                  Split(R"(\p{N}+)"), Split("[0-9][0-9][0-9]"), ByteLevel(false)});
  } else {
    return absl::UnimplementedError(absl::StrCat(
        where, ": tokenizer.ggml.pre = \"", std::string(pre),
        "\" is not a supported pre-tokenizer (smollm, llama-bpe, qwen2, gpt2, default and "
        "their llama.cpp aliases are)"));
  }
  return out;
}

}  // namespace gqa
