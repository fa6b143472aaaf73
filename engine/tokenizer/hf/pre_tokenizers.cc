#include "engine/tokenizer/hf/pre_tokenizers.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/byte_level.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/hf/split_behavior.h"
#include "engine/tokenizer/hf/string_pattern.h"
#include "engine/tokenizer/hf/unicode_text.h"

namespace gqa::hf {
namespace {

// GPT-2's pre-tokenization pattern (HF ByteLevel with use_regex).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string_view PieceText(const PreTokenized& pt, const PreToken& piece) {
  return std::string_view(pt.text).substr(piece.begin, piece.end - piece.begin);
}

// Cuts every piece at the matches `find` reports for its text.
template <typename FindFn>
void CutAll(PreTokenized* pt, SplitBehavior behavior, bool invert, FindFn find) {
  thread_local std::vector<Regex::Span> matches;
  std::vector<PreToken> out;
  out.reserve(pt->pieces.size());
  for (const PreToken& piece : pt->pieces) {
    matches.clear();
    find(PieceText(*pt, piece), &matches);
    CutPiece(piece, matches, behavior, invert, &out);
  }
  pt->pieces = std::move(out);
}

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void PreTokenize(PreTokenized* pt, PreTokenized* scratch) const override {
    for (const auto& step : steps_) step->PreTokenize(pt, scratch);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(StringPattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void PreTokenize(PreTokenized* pt, PreTokenized* /*scratch*/) const override {
    CutAll(pt, behavior_, invert_, [this](std::string_view text, std::vector<Regex::Span>* m) {
      pattern_.FindAll(text, m);
    });
  }

 private:
  StringPattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// Digits: numeric characters (Nd, Nl, No) alone, or runs of them together.
class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual_digits) : individual_(individual_digits) {}
  void PreTokenize(PreTokenized* pt, PreTokenized* /*scratch*/) const override {
    const SplitBehavior behavior =
        individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
    CutAll(pt, behavior, false, [](std::string_view text, std::vector<Regex::Span>* m) {
      for (std::size_t i = 0; i < text.size();) {
        const std::size_t begin = i;
        if (IsNumeric(DecodeUtf8(text, &i))) m->emplace_back(begin, i);
      }
    });
  }

 private:
  bool individual_;
};

// ByteLevel: optional prefix space, optional GPT-2 cut, then bytes -> chars.
class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex, bool map_bytes)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)), map_bytes_(map_bytes) {}

  void PreTokenize(PreTokenized* pt, PreTokenized* scratch) const override {
    if (add_prefix_space_) {
      // Every piece gets a leading space unless it has one (HF does this per piece).
      scratch->text.clear();
      scratch->pieces.clear();
      for (const PreToken& piece : pt->pieces) {
        const std::string_view text = PieceText(*pt, piece);
        if (text.empty()) continue;  // HF's prepend needs a character to align to
        const std::size_t begin = scratch->text.size();
        if (text[0] != ' ') scratch->text.push_back(' ');
        scratch->text.append(text);
        scratch->pieces.push_back({begin, scratch->text.size(), piece.at_text_start});
      }
      std::swap(*pt, *scratch);
    }
    if (regex_ != nullptr) {
      CutAll(
          pt, SplitBehavior::kIsolated, false,
          [this](std::string_view text, std::vector<Regex::Span>* m) { regex_->FindAll(text, m); });
    }
    if (map_bytes_) {
      scratch->text.clear();
      scratch->pieces.clear();
      for (const PreToken& piece : pt->pieces) {
        if (piece.begin == piece.end) continue;
        const std::size_t begin = scratch->text.size();
        BytesToByteLevel(PieceText(*pt, piece), &scratch->text);
        scratch->pieces.push_back({begin, scratch->text.size(), piece.at_text_start});
      }
      std::swap(*pt, *scratch);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;  // null without use_regex
  bool map_bytes_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

// Metaspace: ' ' -> replacement, maybe a leading replacement, maybe cut
// before each replacement (MergedWithNext).
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}

  void PreTokenize(PreTokenized* pt, PreTokenized* scratch) const override {
    scratch->text.clear();
    scratch->pieces.clear();
    for (const PreToken& piece : pt->pieces) {
      const std::string_view text = PieceText(*pt, piece);
      if (text.empty()) continue;  // stays empty: HF's prepend is a no-op on ""
      const std::size_t begin = scratch->text.size();
      const bool starts_with_space = !text.empty() && text[0] == ' ';
      const bool starts_with_replacement = text.substr(0, replacement_.size()) == replacement_;
      const bool prepend = !starts_with_space && !starts_with_replacement &&
                           (scheme_ == PrependScheme::kAlways ||
                            (scheme_ == PrependScheme::kFirst && piece.at_text_start));
      if (prepend) scratch->text.append(replacement_);
      for (const char ch : text) {
        if (ch == ' ') {
          scratch->text.append(replacement_);
        } else {
          scratch->text.push_back(ch);
        }
      }
      scratch->pieces.push_back({begin, scratch->text.size(), piece.at_text_start});
    }
    std::swap(*pt, *scratch);
    if (split_) {
      const StringPattern pattern = StringPattern::Literal(replacement_);
      CutAll(pt, SplitBehavior::kMergedWithNext, false,
             [&pattern](std::string_view text, std::vector<Regex::Span>* m) {
               pattern.FindAll(text, m);
             });
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

absl::StatusOr<std::unique_ptr<PreTokenizer>> MetaspaceFromJson(const nlohmann::json& json,
                                                                const std::string& where) {
  GQA_ASSIGN_OR_RETURN(const std::string replacement, GetString(json, "replacement", where));
  std::size_t pos = 0;
  if (replacement.empty() || (DecodeUtf8(replacement, &pos), pos != replacement.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".replacement: expected exactly one character"));
  }
  // Older files have add_prepend_space instead of prepend_scheme.
  GQA_ASSIGN_OR_RETURN(const bool add_prefix_space, GetBool(json, "add_prefix_space", where, true));
  PrependScheme scheme = add_prefix_space ? PrependScheme::kAlways : PrependScheme::kNever;
  GQA_ASSIGN_OR_RETURN(const std::optional<std::string> scheme_name,
                       GetOptionalString(json, "prepend_scheme", where));
  if (scheme_name.has_value()) {
    if (*scheme_name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (*scheme_name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (*scheme_name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".prepend_scheme: unknown value \"", *scheme_name, "\""));
    }
  }
  GQA_ASSIGN_OR_RETURN(const bool split, GetBool(json, "split", where, true));
  return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, split);
}

}  // namespace

bool EndsWithByteLevel(const nlohmann::json& json) {
  if (!json.is_object()) return false;
  const auto type = json.find("type");
  if (type == json.end() || !type->is_string()) return false;
  if (*type == "ByteLevel") return true;
  if (*type != "Sequence") return false;
  const auto steps = json.find("pretokenizers");
  if (steps == json.end() || !steps->is_array() || steps->empty()) return false;
  return EndsWithByteLevel(steps->back());
}

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& json,
                                                                   const std::string& where,
                                                                   bool defer_byte_level_mapping) {
  GQA_ASSIGN_OR_RETURN(const std::string type, GetString(json, "type", where));
  if (type == "Sequence") {
    GQA_ASSIGN_OR_RETURN(const nlohmann::json* list, GetArray(json, "pretokenizers", where));
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const bool last = i + 1 == list->size();
      GQA_ASSIGN_OR_RETURN(
          auto step,
          PreTokenizerFromJson((*list)[i], absl::StrCat(where, ".pretokenizers[", i, "]"),
                               last && defer_byte_level_mapping));
      steps.push_back(std::move(step));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Split") {
    GQA_ASSIGN_OR_RETURN(StringPattern pattern, StringPatternFromJson(json, where));
    GQA_ASSIGN_OR_RETURN(const std::string behavior_name, GetString(json, "behavior", where));
    GQA_ASSIGN_OR_RETURN(const SplitBehavior behavior, ParseSplitBehavior(behavior_name, where));
    GQA_ASSIGN_OR_RETURN(const bool invert, GetBool(json, "invert", where, false));
    return std::make_unique<SplitPreTokenizer>(std::move(pattern), behavior, invert);
  }
  if (type == "ByteLevel") {
    GQA_ASSIGN_OR_RETURN(const bool add_prefix_space,
                         GetBool(json, "add_prefix_space", where, true));
    GQA_ASSIGN_OR_RETURN(const bool use_regex, GetBool(json, "use_regex", where, true));
    std::unique_ptr<Regex> regex;
    if (use_regex) {
      GQA_ASSIGN_OR_RETURN(regex, Regex::Compile(kGpt2Pattern));
    }
    return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, std::move(regex),
                                                   !defer_byte_level_mapping);
  }
  if (type == "Metaspace") return MetaspaceFromJson(json, where);
  if (type == "Digits") {
    GQA_ASSIGN_OR_RETURN(const bool individual, GetBool(json, "individual_digits", where, false));
    return std::make_unique<DigitsPreTokenizer>(individual);
  }
  return absl::UnimplementedError(
      absl::StrCat(where, ": pre_tokenizer type \"", type, "\" is not supported"));
}

}  // namespace gqa::hf
