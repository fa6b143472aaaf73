#include "engine/tokenizer/hf/decoders.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/byte_level.h"
#include "engine/tokenizer/hf/json_fields.h"
#include "engine/tokenizer/hf/string_pattern.h"
#include "engine/tokenizer/hf/unicode_text.h"
#include "engine/tokenizer/utf8.h"

namespace gqa::hf {
namespace {

// Splits `token` into characters; an ill-formed byte is a "character" of its
// own. Appends [begin, end) spans to `out`.
void CharSpans(const std::string& token, std::vector<std::pair<std::size_t, std::size_t>>* out) {
  for (std::size_t i = 0; i < token.size();) {
    std::size_t len = Utf8CharLength(static_cast<unsigned char>(token[i]));
    if (i + len > token.size() || !IsWellFormedUtf8(std::string_view(token).substr(i, len)))
      len = 1;
    out->emplace_back(i, i + len);
    i += len;
  }
}

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (const auto& step : steps_) step->DecodeChain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// ByteLevel: all tokens -> one string of the bytes their characters stand
// for; a token with a character outside the alphabet keeps its own bytes.
class ByteLevelDecoder final : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string bytes;
    for (const std::string& token : *tokens) {
      if (!IsWellFormedUtf8(token) || !ByteLevelToBytes(token, &bytes)) bytes.append(token);
    }
    tokens->assign(1, std::move(bytes));
  }
};

// Metaspace: the replacement character -> ' ', except in the first token when
// a space was prepended at encoding (prepend_scheme other than "never").
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::size_t i = 0; i < tokens->size(); ++i) {
      std::string& token = (*tokens)[i];
      std::string out;
      out.reserve(token.size());
      for (std::size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (i != 0 || !strip_first_) out.push_back(' ');
          pos += replacement_.size();
        } else {
          out.push_back(token[pos++]);
        }
      }
      token = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// ByteFallback: runs of "<0xHH>" tokens -> the text their bytes spell.
class ByteFallbackDecoder final : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens->size());
    std::string run;           // bytes of the current run of byte tokens
    bool run_at_start = true;  // the run began with the first token
    auto flush = [&](bool at_end) {
      if (run.empty()) return;
      // A window that starts inside a character (streaming) sees its last
      // bytes first: pass those continuation bytes through raw.
      std::size_t head = 0;
      if (run_at_start) {
        while (head < run.size() && head < 3 && (static_cast<uint8_t>(run[head]) & 0xC0) == 0x80) {
          ++head;
        }
        if (head > 0) out.push_back(run.substr(0, head));
      }
      const std::string_view rest = std::string_view(run).substr(head);
      const std::size_t tail = at_end ? Utf8IncompleteTailLength(rest) : 0;
      if (IsWellFormedUtf8(rest.substr(0, rest.size() - tail))) {
        out.emplace_back(rest);  // well-formed, or so far at the end of the ids
      } else {
        for (std::size_t i = 0; i < rest.size(); ++i) out.emplace_back(kUtf8ReplacementChar);
      }
      run.clear();
    };
    for (std::string& token : *tokens) {
      const int byte = ByteOf(token);
      if (byte >= 0) {
        run.push_back(static_cast<char>(byte));
        continue;
      }
      flush(false);
      run_at_start = false;
      out.push_back(std::move(token));
    }
    flush(true);
    *tokens = std::move(out);
  }

 private:
  // The byte of a "<0xHH>" token (hex digits of either case), or -1.
  static int ByteOf(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
    int value = 0;
    for (int k = 3; k < 5; ++k) {
      const char c = token[k];
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }
};

class FuseDecoder final : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string all;
    for (const std::string& token : *tokens) all.append(token);
    tokens->assign(1, std::move(all));
  }
};

// Strip: removes up to `start` leading and `stop` trailing `content` chars.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, std::size_t start, std::size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::pair<std::size_t, std::size_t>> chars;
    for (std::string& token : *tokens) {
      chars.clear();
      CharSpans(token, &chars);
      auto is_content = [&](std::size_t k) {
        return token.compare(chars[k].first, chars[k].second - chars[k].first, content_) == 0;
      };
      std::size_t first = 0;
      while (first < start_ && first < chars.size() && is_content(first)) ++first;
      std::size_t last = chars.size();  // one past the last kept char
      for (std::size_t k = 0; k < stop_ && last > first && is_content(last - 1); ++k) --last;
      const std::size_t begin = first < chars.size() ? chars[first].first : token.size();
      const std::size_t end = last > 0 && last > first ? chars[last - 1].second : begin;
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  std::size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(StringPattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::string& token : *tokens) pattern_.ReplaceAll(content_, &token);
  }

 private:
  StringPattern pattern_;
  std::string content_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& json,
                                                         const std::string& where) {
  GQA_ASSIGN_OR_RETURN(const std::string type, GetString(json, "type", where));
  if (type == "Sequence") {
    GQA_ASSIGN_OR_RETURN(const nlohmann::json* list, GetArray(json, "decoders", where));
    std::vector<std::unique_ptr<Decoder>> steps;
    for (std::size_t i = 0; i < list->size(); ++i) {
      GQA_ASSIGN_OR_RETURN(auto step,
                           DecoderFromJson((*list)[i], absl::StrCat(where, ".decoders[", i, "]")));
      steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    GQA_ASSIGN_OR_RETURN(std::string replacement, GetString(json, "replacement", where));
    GQA_ASSIGN_OR_RETURN(const bool add_prefix_space,
                         GetBool(json, "add_prefix_space", where, true));
    GQA_ASSIGN_OR_RETURN(const std::optional<std::string> scheme,
                         GetOptionalString(json, "prepend_scheme", where));
    const bool strip_first = scheme.has_value() ? *scheme != "never" : add_prefix_space;
    return std::make_unique<MetaspaceDecoder>(std::move(replacement), strip_first);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    GQA_ASSIGN_OR_RETURN(std::string content, GetString(json, "content", where));
    GQA_ASSIGN_OR_RETURN(const int64_t start, GetInt(json, "start", where, 0));
    GQA_ASSIGN_OR_RETURN(const int64_t stop, GetInt(json, "stop", where, 0));
    if (start < 0 || stop < 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": start and stop must be >= 0"));
    }
    return std::make_unique<StripDecoder>(std::move(content), static_cast<std::size_t>(start),
                                          static_cast<std::size_t>(stop));
  }
  if (type == "Replace") {
    GQA_ASSIGN_OR_RETURN(StringPattern pattern, StringPatternFromJson(json, where));
    GQA_ASSIGN_OR_RETURN(std::string content, GetString(json, "content", where));
    return std::make_unique<ReplaceDecoder>(std::move(pattern), std::move(content));
  }
  return absl::UnimplementedError(
      absl::StrCat(where, ": decoder type \"", type, "\" is not supported"));
}

}  // namespace gqa::hf
