#include "engine/tokenizer/gguf/gguf_tokenizer_json.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/gguf/gguf_pre_tokenizers.h"
#include "engine/tokenizer/gguf/gguf_special_tokens.h"
#include "engine/tokenizer/gguf/spm_merges.h"
#include "nlohmann/json.hpp"

namespace gqa {
namespace {

using nlohmann::json;

constexpr const char* kMetaspace = "\xE2\x96\x81";  // U+2581

json AddedTokensJson(const GgufVocab& vocab) {
  json added = json::array();
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const GgufTokenType type = vocab.types[i];
    if (type != GgufTokenType::kControl && type != GgufTokenType::kUnknown &&
        type != GgufTokenType::kUserDefined) {
      continue;
    }
    added.push_back({{"id", i},
                     {"content", vocab.tokens[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", type != GgufTokenType::kUserDefined}});
  }
  return added;
}

// gpt2: merges "left right", split at the first space after the first byte
// (llama.cpp's rule, so that a left side may itself be a space).
absl::Status ReadMerges(const GgufVocab& vocab, hf::RawTokenizerJson* out) {
  out->merges.reserve(vocab.merges.size());
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& line = vocab.merges[rank];
    const size_t space = line.size() < 2 ? std::string::npos : line.find(' ', 1);
    if (space == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(vocab.name, ": tokenizer.ggml.merges[", rank,
                                                     "] = \"", line, "\" is not \"left right\""));
    }
    out->merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GgufTokenizerJson> BuildGgufTokenizerJson(GgufVocab vocab) {
  GQA_RETURN_IF_ERROR(ValidateGgufVocab(vocab));
  GgufTokenizerJson out;
  out.specials.eos_ids = ResolveEndOfGeneration(&vocab);
  hf::RawTokenizerJson& raw = out.json;
  json& root = raw.root;
  root = {{"version", "1.0"},      {"truncation", nullptr},    {"padding", nullptr},
          {"normalizer", nullptr}, {"pre_tokenizer", nullptr}, {"post_processor", nullptr}};
  json model = {{"type", "BPE"},
                {"dropout", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr}};
  bool add_bos_default = false;
  if (vocab.model == "gpt2") {
    GQA_ASSIGN_OR_RETURN(const GgufPreTokenizer pre, GgufBytePreTokenizer(vocab.pre, vocab.name));
    root["normalizer"] = pre.normalizer;
    root["pre_tokenizer"] = pre.pre_tokenizer;
    model.update({{"unk_token", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"ignore_merges", pre.ignore_merges}});
    root["decoder"] = {{"type", "ByteLevel"},
                       {"add_prefix_space", true},
                       {"trim_offsets", true},
                       {"use_regex", true}};
    GQA_RETURN_IF_ERROR(ReadMerges(vocab, &raw));
    add_bos_default = pre.add_bos_default;
  } else if (vocab.model == "llama") {
    if (vocab.scores.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab.name, ": tokenizer.ggml.scores: missing (needed by model \"llama\")"));
    }
    if (vocab.remove_extra_whitespaces) {
      return absl::UnimplementedError(absl::StrCat(
          vocab.name, ": tokenizer.ggml.remove_extra_whitespaces = true is not supported"));
    }
    const bool space_prefix = vocab.add_space_prefix.value_or(true);
    json normalizers = json::array();
    if (space_prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", kMetaspace}});
    normalizers.push_back(
        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMetaspace}});
    root["normalizer"] = {{"type", "Sequence"}, {"normalizers", normalizers}};
    json decoders =
        json::array({{{"type", "Replace"}, {"pattern", {{"String", kMetaspace}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}});
    if (space_prefix) {
      decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    }
    root["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
    model.update({{"unk_token", vocab.unk_id >= 0 ? json(vocab.tokens[vocab.unk_id]) : json()},
                  {"fuse_unk", true},
                  {"byte_fallback", true},
                  {"ignore_merges", false}});
    raw.merges = SpmMergesFromScores(vocab.tokens, vocab.scores);
    add_bos_default = true;
  } else {
    return absl::UnimplementedError(absl::StrCat(vocab.name, ": tokenizer.ggml.model = \"",
                                                 vocab.model,
                                                 "\" is not supported (gpt2 and llama are)"));
  }
  root["model"] = std::move(model);
  root["added_tokens"] = AddedTokensJson(vocab);
  raw.has_vocab = true;
  raw.has_merges = true;
  raw.vocab.reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    raw.vocab.emplace_back(std::move(vocab.tokens[i]), static_cast<int64_t>(i));
  }
  out.specials.bos_id = vocab.bos_id;
  out.specials.eos_id = vocab.eos_id;
  out.specials.add_bos = vocab.add_bos.value_or(add_bos_default);
  out.specials.add_eos = vocab.add_eos.value_or(false);
  return out;
}

}  // namespace gqa
