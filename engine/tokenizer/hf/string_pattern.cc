#include "engine/tokenizer/hf/string_pattern.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/utf8.h"

namespace gqa::hf {

StringPattern StringPattern::Literal(std::string literal) {
  StringPattern p;
  p.literal_ = std::move(literal);
  return p;
}

StringPattern StringPattern::FromRegex(std::shared_ptr<const Regex> regex) {
  StringPattern p;
  p.regex_ = std::move(regex);
  return p;
}

void StringPattern::FindAll(std::string_view text, std::vector<Regex::Span>* matches) const {
  if (regex_ != nullptr) {
    regex_->FindAll(text, matches);
    return;
  }
  if (literal_.empty()) return;
  for (std::size_t pos = text.find(literal_); pos != std::string_view::npos;
       pos = text.find(literal_, pos + literal_.size())) {
    matches->emplace_back(pos, pos + literal_.size());
  }
}

void StringPattern::ReplaceAll(std::string_view content, std::string* text) const {
  std::vector<Regex::Span> matches;
  if (regex_ == nullptr || IsWellFormedUtf8(*text)) {
    FindAll(*text, &matches);
  } else {
    // Run the regex on each well-formed stretch; ill-formed bytes never match.
    const std::string_view all(*text);
    std::size_t i = 0;
    while (i < all.size()) {
      std::size_t end = i;
      while (end < all.size()) {
        // Grow the stretch one character at a time while it stays well-formed.
        const auto lead = static_cast<unsigned char>(all[end]);
        const std::size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        if (end + len > all.size() || !IsWellFormedUtf8(all.substr(end, len))) break;
        end += len;
      }
      if (end > i) {
        std::vector<Regex::Span> part;
        regex_->FindAll(all.substr(i, end - i), &part);
        for (const auto& [b, e] : part) matches.emplace_back(i + b, i + e);
        i = end;
      } else {
        ++i;  // an ill-formed byte
      }
    }
  }
  if (matches.empty()) return;
  std::string out;
  out.reserve(text->size());
  std::size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    out.append(*text, prev, begin - prev);
    out.append(content);
    prev = end;
  }
  out.append(*text, prev, std::string::npos);
  *text = std::move(out);
}

absl::StatusOr<StringPattern> StringPatternFromJson(const nlohmann::json& obj,
                                                    const std::string& where) {
  const std::string path = where + ".pattern";
  GQA_ASSIGN_OR_RETURN(const nlohmann::json* pattern, GetObject(obj, "pattern", where));
  GQA_ASSIGN_OR_RETURN(std::optional<std::string> literal,
                       GetOptionalString(*pattern, "String", path));
  if (literal.has_value()) return StringPattern::Literal(std::move(*literal));
  GQA_ASSIGN_OR_RETURN(std::optional<std::string> regex,
                       GetOptionalString(*pattern, "Regex", path));
  if (!regex.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected {\"String\": ...} or {\"Regex\": ...}"));
  }
  auto compiled = Regex::Compile(*regex);
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", std::string(compiled.status().message())));
  }
  return StringPattern::FromRegex(std::shared_ptr<const Regex>(std::move(*compiled)));
}

}  // namespace gqa::hf
