#include "engine/tokenizer/hf/added_vocabulary.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/bpe_model.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/hf/normalizers.h"
#include "engine/tokenizer/hf/unicode_text.h"

namespace gqa::hf {
namespace {

// The last character of text[0, end), or 0 when there is none.
char32_t CharBefore(std::string_view text, std::size_t end) {
  if (end == 0) return 0;
  std::size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return DecodeUtf8(text, &start);
}

}  // namespace

void AddedVocabulary::Matcher::Add(std::string pattern, int id) {
  if (pattern.empty()) return;
  if (terminal.empty()) {
    terminal.push_back(-1);  // the root
    first_byte.assign(256, false);
  }
  int node = 0;
  for (const char c : pattern) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
    const auto [it, inserted] = edges.try_emplace(key, static_cast<int>(terminal.size()));
    if (inserted) terminal.push_back(-1);
    node = it->second;
  }
  if (terminal[node] >= 0) return;  // a duplicate pattern: the first one wins
  terminal[node] = static_cast<int>(patterns.size());
  first_byte[static_cast<uint8_t>(pattern[0])] = true;
  patterns.push_back(std::move(pattern));
  ids.push_back(id);
}

int AddedVocabulary::Matcher::LongestAt(std::string_view text, std::size_t pos,
                                        std::size_t* length) const {
  int node = 0;
  int best = -1;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const auto it = edges.find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[i]));
    if (it == edges.end()) break;
    node = it->second;
    if (terminal[node] >= 0) {
      best = terminal[node];
      *length = i + 1 - pos;
    }
  }
  return best;
}

absl::StatusOr<AddedVocabulary> AddedVocabulary::FromJson(const nlohmann::json& added_tokens,
                                                          const Normalizer* normalizer,
                                                          const BpeModel& model,
                                                          const std::string& where) {
  if (!added_tokens.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array"));
  }
  std::vector<AddedToken> parsed;
  for (std::size_t i = 0; i < added_tokens.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    const nlohmann::json& t = added_tokens[i];
    AddedToken token;
    GQA_ASSIGN_OR_RETURN(const int64_t id, GetInt(t, "id", at, 0));
    if (id < 0 || id > INT32_MAX / 2) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".id: expected a non-negative integer"));
    }
    GQA_ASSIGN_OR_RETURN(token.content, GetString(t, "content", at));
    GQA_ASSIGN_OR_RETURN(token.single_word, GetBool(t, "single_word", at, false));
    GQA_ASSIGN_OR_RETURN(token.lstrip, GetBool(t, "lstrip", at, false));
    GQA_ASSIGN_OR_RETURN(token.rstrip, GetBool(t, "rstrip", at, false));
    GQA_ASSIGN_OR_RETURN(token.special, GetBool(t, "special", at, false));
    GQA_ASSIGN_OR_RETURN(token.normalized, GetBool(t, "normalized", at, !token.special));
    if (!token.content.empty()) parsed.push_back(std::move(token));  // HF ignores empty ones
  }

  // HF's AddedVocabulary::add_tokens, step by step.
  AddedVocabulary vocab;
  std::vector<const AddedToken*> special_order, classic_order;
  for (const AddedToken& token : parsed) {
    if (token.special && vocab.special_contents_.insert(token.content).second) {
      special_order.push_back(&token);
    }
  }
  auto same = [](const AddedToken& a, const AddedToken& b) {
    return a.content == b.content && a.single_word == b.single_word && a.lstrip == b.lstrip &&
           a.rstrip == b.rstrip && a.normalized == b.normalized && a.special == b.special;
  };
  const int model_entries = model.vocab_entries();
  for (const AddedToken& token : parsed) {
    // Skip a token equal to one already stored (a content lives at one id).
    std::optional<int> id = vocab.FindByContent(token.content);
    if (id.has_value()) {
      const AddedToken* stored = vocab.FindById(*id);
      if (stored != nullptr && same(*stored, token)) continue;
    }
    if (!id.has_value()) id = model.TokenToId(token.content);
    if (!id.has_value()) {
      int max_id = -1;
      for (const auto& [content, added_id] : vocab.by_content_) max_id = std::max(max_id, added_id);
      id = max_id < 0
               ? model_entries
               : (max_id >= model_entries || model_entries == 0 ? max_id + 1 : model_entries);
    }
    vocab.by_content_[token.content] = *id;
    AddedToken stored = token;
    stored.id = *id;
    stored.decode_form = token.content;
    if (token.normalized && normalizer != nullptr) normalizer->Normalize(&stored.decode_form);
    if (const auto it = vocab.by_id_.find(*id); it != vocab.by_id_.end()) {
      vocab.tokens_[it->second] = std::move(stored);
    } else {
      vocab.by_id_[*id] = static_cast<int>(vocab.tokens_.size());
      vocab.tokens_.push_back(std::move(stored));
    }
    if (!vocab.special_contents_.contains(token.content)) classic_order.push_back(&token);
  }
  // Matching sets: special tokens first, then the others; each pattern maps
  // to the id its content has now.
  special_order.insert(special_order.end(), classic_order.begin(), classic_order.end());
  for (const AddedToken* token : special_order) {
    std::optional<int> id = vocab.FindByContent(token->content);
    if (!id.has_value()) id = model.TokenToId(token->content);
    if (!token->normalized) {
      vocab.raw_.Add(token->content, *id);
      continue;
    }
    std::string pattern = token->content;
    if (normalizer != nullptr) normalizer->Normalize(&pattern);
    vocab.normalized_.Add(std::move(pattern), *id);
  }
  return vocab;
}

bool AddedVocabulary::IsSpecialContent(std::string_view content) const {
  return special_contents_.contains(absl::string_view(content.data(), content.size()));
}

const AddedToken* AddedVocabulary::FindById(int id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int> AddedVocabulary::FindByContent(std::string_view content) const {
  const auto it = by_content_.find(absl::string_view(content.data(), content.size()));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

void AddedVocabulary::FindMatches(std::string_view text, bool normalized_set,
                                  std::vector<AddedSplit>* out) const {
  if (text.empty()) {
    out->push_back({0, 0, -1});
    return;
  }
  const Matcher& matcher = normalized_set ? normalized_ : raw_;
  std::size_t start_offset = 0;  // end of the last emitted stretch
  std::size_t pos = 0;
  while (pos < text.size() && !matcher.patterns.empty()) {
    std::size_t length = 0;
    const int pattern = matcher.first_byte[static_cast<uint8_t>(text[pos])]
                            ? matcher.LongestAt(text, pos, &length)
                            : -1;
    if (pattern < 0) {
      ++pos;
      continue;
    }
    std::size_t start = pos;
    std::size_t stop = pos + length;
    pos = stop;  // matches never overlap, whether or not this one is kept
    const AddedToken& token = *FindById(matcher.ids[pattern]);
    if (token.single_word) {
      std::size_t after = stop;
      const bool word_before = start > 0 && IsWordChar(CharBefore(text, start));
      const bool word_after = stop < text.size() && IsWordChar(DecodeUtf8(text, &after));
      if (word_before || word_after) continue;
    }
    if (token.lstrip) {
      std::size_t new_start = start;
      while (new_start > 0) {
        std::size_t char_start = new_start - 1;
        while (char_start > 0 && (static_cast<unsigned char>(text[char_start]) & 0xC0) == 0x80) {
          --char_start;
        }
        std::size_t p = char_start;
        if (!IsWhiteSpace(DecodeUtf8(text, &p))) break;
        new_start = char_start;
      }
      start = std::max(new_start, start_offset);  // never into an earlier match
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        std::size_t next = stop;
        if (!IsWhiteSpace(DecodeUtf8(text, &next))) break;
        stop = next;
      }
    }
    if (start_offset < start) out->push_back({start_offset, start, -1});
    out->push_back({start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset != text.size()) out->push_back({start_offset, text.size(), -1});
}

}  // namespace gqa::hf
