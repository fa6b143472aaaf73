#include "engine/tokenizer/hf/hf_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/tokenizer_config.h"
#include "engine/tokenizer/hf/tokenizer_json.h"
#include "engine/tokenizer/utf8.h"

namespace gqa {

using hf::AddedSplit;

struct HfTokenizer::Impl {
  hf::TokenizerJson parts;
  // Applied with add_special_tokens: tokenizer.json's, or the one rebuilt
  // from add_bos_token / add_eos_token (null: nothing added).
  std::unique_ptr<hf::PostProcessor> post_processor;
  std::vector<bool> is_special;  // id -> its token string is a special added token
  int vocab_size = 0;
  int bos_id = -1;
  std::vector<int> eos_ids;

  const std::string* IdToToken(int id) const {
    if (const hf::AddedToken* added = parts.added_tokens.FindById(id)) return &added->decode_form;
    return parts.model->IdToToken(id);
  }
  std::optional<int> TokenToId(std::string_view token) const {
    if (auto id = parts.added_tokens.FindByContent(token)) return id;
    return parts.model->TokenToId(token);
  }
  // Sets vocab_size and is_special from parts.
  void IndexVocabulary();
  // Encodes one stretch of normalized text without added tokens.
  void EncodeWords(std::string text, bool at_text_start, hf::PreTokenized* pt,
                   hf::PreTokenized* scratch, hf::BpeScratch* bpe, std::vector<int>* ids) const;
};

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return contents.str();
}

// Whether the json template puts `id` before / after the sequence.
bool TemplateAdds(const hf::PostProcessor* post, int id, bool before) {
  if (post == nullptr || id < 0) return false;
  std::vector<int> probe = {-1};
  post->Process(&probe);
  const auto seq = std::find(probe.begin(), probe.end(), -1);
  return before ? std::find(probe.begin(), seq, id) != seq
                : std::find(seq, probe.end(), id) != probe.end();
}

}  // namespace

void HfTokenizer::Impl::EncodeWords(std::string text, bool at_text_start, hf::PreTokenized* pt,
                                    hf::PreTokenized* scratch, hf::BpeScratch* bpe,
                                    std::vector<int>* ids) const {
  pt->pieces.assign(1, hf::PreToken{0, text.size(), at_text_start});
  pt->text = std::move(text);
  if (parts.pre_tokenizer != nullptr) parts.pre_tokenizer->PreTokenize(pt, scratch);
  const std::string_view all(pt->text);
  for (const hf::PreToken& piece : pt->pieces) {
    if (piece.end > piece.begin) {
      parts.model->Tokenize(all.substr(piece.begin, piece.end - piece.begin), bpe, ids);
    }
  }
}

void HfTokenizer::Impl::IndexVocabulary() {
  const hf::AddedVocabulary& added = parts.added_tokens;
  vocab_size = parts.model->vocab_size();
  for (const hf::AddedToken& t : added.tokens()) vocab_size = std::max(vocab_size, t.id + 1);
  is_special.assign(static_cast<std::size_t>(vocab_size), false);
  for (int id = 0; id < vocab_size; ++id) {
    const std::string* token = IdToToken(id);
    is_special[id] = token != nullptr && added.IsSpecialContent(*token);
  }
}

HfTokenizer::HfTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HfTokenizer::~HfTokenizer() = default;

absl::StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::Load(const HfTokenizerFiles& files) {
  GQA_ASSIGN_OR_RETURN(const std::string json, ReadFile(files.tokenizer_json));
  std::string config, generation;
  if (!files.tokenizer_config_json.empty()) {
    GQA_ASSIGN_OR_RETURN(config, ReadFile(files.tokenizer_config_json));
  }
  if (!files.generation_config_json.empty()) {
    GQA_ASSIGN_OR_RETURN(generation, ReadFile(files.generation_config_json));
  }
  return Build(json, config, generation, files);
}

absl::StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::FromJsonText(
    std::string_view tokenizer_json, std::string_view tokenizer_config_json,
    std::string_view generation_config_json) {
  return Build(tokenizer_json, tokenizer_config_json, generation_config_json,
               {"tokenizer.json", "tokenizer_config.json", "generation_config.json"});
}

absl::StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::Build(
    std::string_view tokenizer_json, std::string_view tokenizer_config_json,
    std::string_view generation_config_json, const HfTokenizerFiles& names) {
  auto impl = std::make_unique<Impl>();
  GQA_ASSIGN_OR_RETURN(impl->parts, hf::ParseTokenizerJson(tokenizer_json, names.tokenizer_json));
  hf::TokenizerConfig config;
  if (!tokenizer_config_json.empty()) {
    GQA_ASSIGN_OR_RETURN(
        config, hf::ParseTokenizerConfig(tokenizer_config_json, names.tokenizer_config_json));
  }
  hf::GenerationConfig generation;
  if (!generation_config_json.empty()) {
    GQA_ASSIGN_OR_RETURN(generation, hf::ParseGenerationConfig(generation_config_json,
                                                               names.generation_config_json));
  }

  impl->IndexVocabulary();

  // BOS / EOS.
  auto resolve = [&](const std::string& token, const char* field) -> absl::StatusOr<int> {
    const std::optional<int> id = impl->TokenToId(token);
    if (!id.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(names.tokenizer_config_json, ": ", field,
                                                     ": \"", token, "\" is not in the vocabulary"));
    }
    return *id;
  };
  if (config.bos_token.has_value()) {
    GQA_ASSIGN_OR_RETURN(impl->bos_id, resolve(*config.bos_token, "bos_token"));
  } else if (generation.bos_token_id.has_value()) {
    impl->bos_id = *generation.bos_token_id;
  }
  std::vector<int> eos;
  for (const std::string& token : config.eos_tokens) {
    GQA_ASSIGN_OR_RETURN(const int id, resolve(token, "eos_token"));
    eos.push_back(id);
  }
  eos.insert(eos.end(), generation.eos_token_ids.begin(), generation.eos_token_ids.end());
  for (const int id : eos) {
    if (std::find(impl->eos_ids.begin(), impl->eos_ids.end(), id) == impl->eos_ids.end()) {
      impl->eos_ids.push_back(id);
    }
  }

  // The post-processor: tokenizer.json's, or rebuilt from add_bos/add_eos.
  impl->post_processor = std::move(impl->parts.post_processor);
  if (config.add_bos_token.has_value() || config.add_eos_token.has_value()) {
    const int eos_id = config.eos_tokens.empty() ? -1 : impl->eos_ids.front();
    const bool add_bos = config.add_bos_token.value_or(
        TemplateAdds(impl->post_processor.get(), impl->bos_id, /*before=*/true));
    const bool add_eos = config.add_eos_token.value_or(
        TemplateAdds(impl->post_processor.get(), eos_id, /*before=*/false));
    std::vector<int> before, after;
    if (add_bos && impl->bos_id >= 0) before.push_back(impl->bos_id);
    if (add_eos && eos_id >= 0) after.push_back(eos_id);
    impl->post_processor = hf::MakeTemplateProcessor(std::move(before), std::move(after));
  }
  return std::unique_ptr<HfTokenizer>(new HfTokenizer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::FromRawJson(
    hf::RawTokenizerJson raw, const HfSpecialTokens& specials, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  GQA_ASSIGN_OR_RETURN(impl->parts, hf::ParseTokenizerJson(std::move(raw), name));
  impl->IndexVocabulary();
  for (const int id : {specials.bos_id, specials.eos_id}) {
    if (id >= impl->vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": special token id ", id,
                                                     " is past the vocabulary (", impl->vocab_size,
                                                     " tokens)"));
    }
  }
  impl->bos_id = specials.bos_id;
  for (const int id : specials.eos_ids) {
    if (std::find(impl->eos_ids.begin(), impl->eos_ids.end(), id) == impl->eos_ids.end()) {
      impl->eos_ids.push_back(id);
    }
  }
  std::vector<int> before, after;
  if (specials.add_bos && specials.bos_id >= 0) before.push_back(specials.bos_id);
  if (specials.add_eos && specials.eos_id >= 0) after.push_back(specials.eos_id);
  if (!before.empty() || !after.empty()) {
    impl->post_processor = hf::MakeTemplateProcessor(std::move(before), std::move(after));
  }
  return std::unique_ptr<HfTokenizer>(new HfTokenizer(std::move(impl)));
}

int HfTokenizer::vocab_size() const { return impl_->vocab_size; }
int HfTokenizer::bos_id() const { return impl_->bos_id; }
std::vector<int> HfTokenizer::eos_ids() const { return impl_->eos_ids; }
bool HfTokenizer::byte_level_input() const { return impl_->parts.model->byte_level_input(); }

std::optional<int> HfTokenizer::TokenToId(std::string_view token) const {
  return impl_->TokenToId(token);
}

std::string HfTokenizer::TokenString(int id) const {
  const std::string* token = impl_->IdToToken(id);
  return token != nullptr ? *token : std::string();
}

std::vector<int> HfTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  std::string repaired;
  if (!IsWellFormedUtf8(text)) {
    repaired = Utf8ReplaceInvalid(text);
    text = repaired;
  }
  const hf::TokenizerJson& parts = impl_->parts;
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 8);
  hf::PreTokenized pt, scratch;
  hf::BpeScratch bpe;
  std::vector<AddedSplit> raw_splits, normalized_splits;

  // 1. Added tokens in the raw text; 2. normalize the rest, find normalized
  // added tokens in it; 3. pre-tokenize and run the model on what remains.
  parts.added_tokens.FindMatches(text, /*normalized_set=*/false, &raw_splits);
  for (const AddedSplit& split : raw_splits) {
    if (split.id >= 0) {
      ids.push_back(split.id);
      continue;
    }
    std::string normalized(text.substr(split.begin, split.end - split.begin));
    if (parts.normalizer != nullptr) parts.normalizer->Normalize(&normalized);
    const bool at_text_start = split.begin == 0;
    if (!parts.added_tokens.has_normalized_tokens()) {
      impl_->EncodeWords(std::move(normalized), at_text_start, &pt, &scratch, &bpe, &ids);
      continue;
    }
    normalized_splits.clear();
    parts.added_tokens.FindMatches(normalized, /*normalized_set=*/true, &normalized_splits);
    for (const AddedSplit& inner : normalized_splits) {
      if (inner.id >= 0) {
        ids.push_back(inner.id);
      } else {
        impl_->EncodeWords(normalized.substr(inner.begin, inner.end - inner.begin),
                           at_text_start && inner.begin == 0, &pt, &scratch, &bpe, &ids);
      }
    }
  }
  if (add_special_tokens && impl_->post_processor != nullptr) impl_->post_processor->Process(&ids);
  return ids;
}

std::string HfTokenizer::Decode(std::span<const int> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int id : ids) {
    const std::string* token = impl_->IdToToken(id);
    if (token == nullptr) continue;  // HF drops ids it has no token for
    if (skip_special_tokens && impl_->is_special[id]) continue;
    tokens.push_back(*token);
  }
  std::string text;
  if (impl_->parts.decoder != nullptr) {
    impl_->parts.decoder->DecodeChain(&tokens);
    for (const std::string& piece : tokens) text.append(piece);
  } else {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text.push_back(' ');
      text.append(tokens[i]);
    }
  }
  return text;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& model_dir) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(model_dir, ec)) return LoadHfTokenizerFile(model_dir);
  return LoadHfTokenizerFile((std::filesystem::path(model_dir) / "tokenizer.json").string());
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizerFile(const std::string& path) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  HfTokenizerFiles files;
  files.tokenizer_json = path;
  std::error_code ec;
  for (auto [name, field] : {std::pair{"tokenizer_config.json", &files.tokenizer_config_json},
                             std::pair{"generation_config.json", &files.generation_config_json}}) {
    const std::filesystem::path p = dir / name;
    if (std::filesystem::is_regular_file(p, ec)) *field = p.string();
  }
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<HfTokenizer> tokenizer, HfTokenizer::Load(files));
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace gqa
