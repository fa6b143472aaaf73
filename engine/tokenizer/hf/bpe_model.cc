#include "engine/tokenizer/hf/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/byte_level.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/hf/unicode_text.h"

namespace gqa::hf {
namespace {

// Debian's abseil has its own string_view type; hash-map look-ups take that.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Heap order: the candidate with the lowest rank, then the lowest position, on top.
bool LowerPriority(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromJson(const nlohmann::json& model,
                                                             const std::string& where) {
  GQA_ASSIGN_OR_RETURN(const nlohmann::json* vocab_json, GetObject(model, "vocab", where));
  GQA_ASSIGN_OR_RETURN(const nlohmann::json* merges_json, GetArray(model, "merges", where));
  Vocab vocab;
  for (const auto& [token, id] : vocab_json->items()) {
    vocab.emplace_back(token, id.is_number_integer() ? id.get<int64_t>() : -1);
  }
  Merges merges;
  for (std::size_t rank = 0; rank < merges_json->size(); ++rank) {
    const nlohmann::json& m = (*merges_json)[rank];
    const std::string at = absl::StrCat(where, ".merges[", rank, "]");
    if (m.is_string()) {
      const std::string& line = m.get_ref<const std::string&>();
      const std::size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ": expected \"left right\", got \"", line, "\""));
      }
      merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": expected \"left right\" or [\"left\", \"right\"]"));
    }
  }
  return FromParts(model, std::move(vocab), merges, where);
}

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromParts(const nlohmann::json& model,
                                                              Vocab vocab, const Merges& merges,
                                                              const std::string& where) {
  auto bpe = std::unique_ptr<BpeModel>(new BpeModel());
  if (model.contains("dropout") && model["dropout"].is_number() &&
      model["dropout"].get<double>() > 0.0) {
    return absl::UnimplementedError(
        absl::StrCat(where, ".dropout: BPE dropout (random merges) is not supported"));
  }
  GQA_RETURN_IF_ERROR(bpe->LoadVocab(std::move(vocab), where + ".vocab"));
  GQA_ASSIGN_OR_RETURN(std::optional<std::string> prefix,
                       GetOptionalString(model, "continuing_subword_prefix", where));
  GQA_ASSIGN_OR_RETURN(std::optional<std::string> suffix,
                       GetOptionalString(model, "end_of_word_suffix", where));
  bpe->continuing_subword_prefix_ = prefix.value_or("");
  bpe->end_of_word_suffix_ = suffix.value_or("");
  GQA_RETURN_IF_ERROR(bpe->LoadMerges(merges, where + ".merges"));
  bpe->metaspace_id_ = bpe->TokenToId("\u2581").value_or(-1);
  if (bpe->metaspace_id_ >= 0 && bpe->continuing_subword_prefix_.empty() &&
      bpe->end_of_word_suffix_.empty()) {
    bpe->split_at_metaspace_ = true;
    for (const auto& [left, right] : merges) {
      if (left.empty() || right.compare(0, 3, "\u2581") != 0) continue;
      std::size_t last = left.size() - 1;
      while (last > 0 && (static_cast<unsigned char>(left[last]) & 0xC0) == 0x80) --last;
      bpe->joins_metaspace_.insert(DecodeUtf8(left, &last));
    }
  }

  GQA_ASSIGN_OR_RETURN(std::optional<std::string> unk,
                       GetOptionalString(model, "unk_token", where));
  // An unk_token missing from the vocabulary: HF fails when it is needed; we
  // drop unknown characters instead (Encode cannot fail).
  if (unk.has_value()) bpe->unk_id_ = bpe->TokenToId(*unk);
  GQA_ASSIGN_OR_RETURN(bpe->fuse_unk_, GetBool(model, "fuse_unk", where, false));
  GQA_ASSIGN_OR_RETURN(bpe->byte_fallback_, GetBool(model, "byte_fallback", where, false));
  GQA_ASSIGN_OR_RETURN(bpe->ignore_merges_, GetBool(model, "ignore_merges", where, false));
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    bpe->byte_fallback_ids_[b] = bpe->TokenToId(name).value_or(-1);
  }
  return bpe;
}

absl::Status BpeModel::LoadVocab(Vocab vocab, const std::string& where) {
  int max_id = -1;
  for (const auto& [token, id] : vocab) {
    if (id < 0 || id > INT32_MAX / 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "[\"", token, "\"]: expected a non-negative integer id"));
    }
    max_id = std::max(max_id, static_cast<int>(id));
  }
  strings_.reserve(vocab.size());
  for (auto& entry : vocab) strings_.push_back(std::move(entry.first));
  id_to_string_.assign(static_cast<std::size_t>(max_id + 1), -1);
  token_to_id_.reserve(strings_.size());
  for (std::size_t i = 0; i < strings_.size(); ++i) {
    const int id = static_cast<int>(vocab[i].second);
    // A repeated token keeps its last id, as a JSON object does.
    token_to_id_.insert_or_assign(absl::string_view(strings_[i]), id);
  }
  for (std::size_t i = 0; i < strings_.size(); ++i) {
    const int id = static_cast<int>(vocab[i].second);
    if (id_to_string_[id] < 0)
      id_to_string_[id] = static_cast<int>(i);  // one id, two tokens: the first
  }
  return absl::OkStatus();
}

absl::Status BpeModel::LoadMerges(const Merges& merges, const std::string& where) {
  merges_.reserve(merges.size());
  std::string merged;
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    // The merged token drops the right side's continuing_subword_prefix.
    const std::size_t strip = continuing_subword_prefix_.size();
    if (right.size() < strip) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "[", rank, "]: \"", right, "\" is shorter than the continuing_subword_prefix"));
    }
    merged = left;
    merged.append(right, strip);
    const std::optional<int> left_id = TokenToId(left);
    const std::optional<int> right_id = TokenToId(right);
    const std::optional<int> merged_id = TokenToId(merged);
    if (!left_id || !right_id || !merged_id) {
      const std::string& missing = !left_id ? left : !right_id ? right : merged;
      return absl::InvalidArgumentError(
          absl::StrCat(where, "[", rank, "]: token \"", missing, "\" is not in the vocabulary"));
    }
    // A repeated pair takes its last rank, as HF's HashMap collect does.
    merges_.insert_or_assign(PairKey(*left_id, *right_id),
                             Merge{static_cast<uint32_t>(rank), *merged_id});
  }
  return absl::OkStatus();
}

bool BpeModel::EnableByteLevelInput() {
  if (!continuing_subword_prefix_.empty() || !end_of_word_suffix_.empty()) return false;
  std::array<int, 256> ids{};
  for (int b = 0; b < 256; ++b) {
    const std::optional<int> id = TokenToId(ByteLevelCharUtf8(static_cast<uint8_t>(b)));
    if (!id.has_value()) return false;
    ids[b] = *id;
  }
  byte_symbol_ids_ = ids;
  if (ignore_merges_) {
    // (ignore_merges looks whole words up.) Entries outside the byte alphabet
    // can never equal a byte-level word: leave them out.
    raw_strings_.reserve(token_to_id_.size());  // no reallocation: the map keeps views
    raw_token_to_id_.reserve(token_to_id_.size());
    std::string raw;
    for (const auto& [token, id] : token_to_id_) {
      raw.clear();
      if (!ByteLevelToBytes(std::string_view(token.data(), token.size()), &raw)) continue;
      raw_strings_.push_back(raw);
      raw_token_to_id_.emplace(absl::string_view(raw_strings_.back()), id);
    }
  }
  byte_level_input_ = true;
  return true;
}

const std::string* BpeModel::IdToToken(int id) const {
  if (id < 0 || id >= vocab_size() || id_to_string_[id] < 0) return nullptr;
  return &strings_[id_to_string_[id]];
}

std::optional<int> BpeModel::TokenToId(std::string_view token) const {
  const auto it = token_to_id_.find(AbslView(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::Tokenize(std::string_view word, BpeScratch* scratch, std::vector<int>* ids) const {
  if (ignore_merges_) {
    const auto& vocab = byte_level_input_ ? raw_token_to_id_ : token_to_id_;
    const auto it = vocab.find(AbslView(word));
    if (it != vocab.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  if (!split_at_metaspace_) {
    TokenizePiece(word, scratch, ids);
    return;
  }
  for (std::size_t begin = 0; begin < word.size();) {
    const std::size_t end = NextMetaspaceCut(word, begin + 1);
    TokenizePiece(word.substr(begin, end - begin), scratch, ids);
    begin = end;
  }
}

std::size_t BpeModel::NextMetaspaceCut(std::string_view word, std::size_t from) const {
  static constexpr std::string_view kMetaspace = "\u2581";
  for (std::size_t p = word.find(kMetaspace, from); p != std::string_view::npos;
       p = word.find(kMetaspace, p + 1)) {
    std::size_t prev = p - 1;
    while (prev > 0 && (static_cast<unsigned char>(word[prev]) & 0xC0) == 0x80) --prev;
    const std::string_view before = word.substr(prev, p - prev);
    if (before == kMetaspace) continue;
    // The character must be a token of its own (not byte fallback or unk) so
    // that any symbol ending here ends with it.
    if (!TokenToId(before).has_value()) continue;
    std::size_t pos = 0;
    if (joins_metaspace_.contains(DecodeUtf8(before, &pos))) continue;
    return p;
  }
  return word.size();
}

void BpeModel::TokenizePiece(std::string_view word, BpeScratch* scratch,
                             std::vector<int>* ids) const {
  const auto cached = scratch->cache.find(AbslView(word));
  if (cached != scratch->cache.end()) {
    const auto [offset, count] = cached->second;
    ids->insert(ids->end(), scratch->cached_ids.begin() + offset,
                scratch->cached_ids.begin() + offset + count);
    return;
  }
  if (byte_level_input_) {
    InitByteSymbols(word, scratch);
  } else {
    InitSymbols(word, scratch);
  }
  MergeSymbols(scratch);
  const auto offset = static_cast<uint32_t>(scratch->cached_ids.size());
  for (int i = scratch->symbols.empty() ? -1 : 0; i != -1; i = scratch->symbols[i].next) {
    scratch->cached_ids.push_back(scratch->symbols[i].id);
  }
  const auto count = static_cast<uint32_t>(scratch->cached_ids.size() - offset);
  ids->insert(ids->end(), scratch->cached_ids.end() - count, scratch->cached_ids.end());
  scratch->cache.emplace(std::string(word), std::make_pair(offset, count));
}

void BpeModel::InitByteSymbols(std::string_view word, BpeScratch* scratch) const {
  auto& symbols = scratch->symbols;
  symbols.clear();
  const int n = static_cast<int>(word.size());
  for (int i = 0; i < n; ++i) {
    symbols.push_back(
        {byte_symbol_ids_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1, true});
  }
}

void BpeModel::InitSymbols(std::string_view word, BpeScratch* scratch) const {
  auto& symbols = scratch->symbols;
  symbols.clear();
  auto add = [&symbols](int id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) symbols[index - 1].next = index;
  };
  bool unk_pending = false;  // an unk symbol not yet added (fuse_unk may grow it)
  std::string& key = scratch->buffer;
  for (std::size_t i = 0; i < word.size();) {
    const std::size_t begin = i;
    DecodeUtf8(word, &i);
    key.clear();
    if (begin > 0) key.append(continuing_subword_prefix_);
    key.append(word.substr(begin, i - begin));
    if (i == word.size()) key.append(end_of_word_suffix_);

    if (const std::optional<int> id = TokenToId(key)) {
      if (unk_pending) add(*unk_id_);
      unk_pending = false;
      add(*id);
      continue;
    }
    if (byte_fallback_ && std::all_of(key.begin(), key.end(), [this](char c) {
          return byte_fallback_ids_[static_cast<uint8_t>(c)] >= 0;
        })) {
      // As in HF, a pending unk stays pending across byte-fallback symbols.
      for (const char c : key) add(byte_fallback_ids_[static_cast<uint8_t>(c)]);
      continue;
    }
    if (unk_id_.has_value()) {
      if (unk_pending && !fuse_unk_) add(*unk_id_);
      unk_pending = true;
    }
  }
  if (unk_pending) add(*unk_id_);
}

void BpeModel::MergeSymbols(BpeScratch* scratch) const {
  auto& symbols = scratch->symbols;
  auto& heap = scratch->heap;
  heap.clear();
  auto push_candidate = [&](int pos) {
    const int next = symbols[pos].next;
    if (next < 0) return;
    const auto it = merges_.find(PairKey(symbols[pos].id, symbols[next].id));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, pos, it->second.new_id});
    std::push_heap(heap.begin(), heap.end(), LowerPriority);
  };
  for (int pos = 0; pos + 1 < static_cast<int>(symbols.size()); ++pos) push_candidate(pos);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LowerPriority);
    const BpeScratch::Candidate top = heap.back();
    heap.pop_back();
    BpeScratch::Symbol& left = symbols[top.pos];
    if (!left.live || left.next < 0) continue;
    BpeScratch::Symbol& right = symbols[left.next];
    // Skip stale candidates: the pair at `pos` changed since it was queued.
    const auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    left.id = top.new_id;
    right.live = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push_candidate(left.prev);
    push_candidate(top.pos);
  }
}

}  // namespace gqa::hf
