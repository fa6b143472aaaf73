#include "engine/tokenizer/hf/normalizers.h"

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/hf/regex.h"
#include "engine/tokenizer/hf/string_pattern.h"
#include "engine/tokenizer/hf/unicode_text.h"

namespace gqa::hf {
namespace {

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void Normalize(std::string* text) const override {
    for (const auto& step : steps_) step->Normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// Prepend / Append: add `affix` to non-empty text only.
class AffixNormalizer final : public Normalizer {
 public:
  AffixNormalizer(std::string affix, bool prepend) : affix_(std::move(affix)), prepend_(prepend) {}
  void Normalize(std::string* text) const override {
    if (text->empty()) return;
    if (prepend_) {
      text->insert(0, affix_);
    } else {
      text->append(affix_);
    }
  }

 private:
  std::string affix_;
  bool prepend_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(StringPattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void Normalize(std::string* text) const override { pattern_.ReplaceAll(content_, text); }

 private:
  StringPattern pattern_;
  std::string content_;
};

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalizationForm form) : form_(form) {}
  void Normalize(std::string* text) const override { NormalizeUnicode(form_, text); }

 private:
  NormalizationForm form_;
};

// Strip: removes White_Space characters at the left and/or right end.
class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void Normalize(std::string* text) const override {
    std::size_t begin = 0;
    std::size_t end = text->size();
    if (left_) {
      while (begin < end) {
        std::size_t next = begin;
        if (!IsWhiteSpace(DecodeUtf8(*text, &next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>((*text)[start]) & 0xC0) == 0x80) {
          --start;
        }
        std::size_t pos = start;
        if (!IsWhiteSpace(DecodeUtf8(*text, &pos))) break;
        end = start;
      }
    }
    *text = text->substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& json,
                                                               const std::string& where) {
  GQA_ASSIGN_OR_RETURN(const std::string type, GetString(json, "type", where));
  if (type == "Sequence") {
    GQA_ASSIGN_OR_RETURN(const nlohmann::json* list, GetArray(json, "normalizers", where));
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (std::size_t i = 0; i < list->size(); ++i) {
      GQA_ASSIGN_OR_RETURN(
          auto step, NormalizerFromJson((*list)[i], absl::StrCat(where, ".normalizers[", i, "]")));
      steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "Prepend" || type == "Append") {
    const std::string key = type == "Prepend" ? "prepend" : "append";
    GQA_ASSIGN_OR_RETURN(std::string affix, GetString(json, key, where));
    return std::make_unique<AffixNormalizer>(std::move(affix), type == "Prepend");
  }
  if (type == "Replace") {
    GQA_ASSIGN_OR_RETURN(StringPattern pattern, StringPatternFromJson(json, where));
    GQA_ASSIGN_OR_RETURN(std::string content, GetString(json, "content", where));
    return std::make_unique<ReplaceNormalizer>(std::move(pattern), std::move(content));
  }
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkd);
  if (type == "Strip") {
    GQA_ASSIGN_OR_RETURN(const bool left, GetBool(json, "strip_left", where, true));
    GQA_ASSIGN_OR_RETURN(const bool right, GetBool(json, "strip_right", where, true));
    return std::make_unique<StripNormalizer>(left, right);
  }
  return absl::UnimplementedError(
      absl::StrCat(where, ": normalizer type \"", type, "\" is not supported"));
}

}  // namespace gqa::hf
