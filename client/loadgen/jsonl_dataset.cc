#include "client/loadgen/jsonl_dataset.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gqa::loadgen {
namespace {

using Json = nlohmann::json;

absl::Status LineError(const std::string& source, int line, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", what));
}

// An integer JSON value that fits int32 (1.0 is not accepted: ids are integers).
bool AsInt32(const Json& v, int32_t* out) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
    *out = static_cast<int32_t>(u);
    return true;
  }
  const int64_t i = v.get<int64_t>();
  if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(i);
  return true;
}

absl::StatusOr<DatasetEntry> ParseLine(const std::string& text, const std::string& source,
                                       int line) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return LineError(source, line, "not valid JSON");
  if (!j.is_object()) return LineError(source, line, "expected a JSON object");
  DatasetEntry e;
  e.line = line;
  const bool has_prompt = j.contains("prompt");
  const bool has_ids = j.contains("prompt_token_ids");
  if (has_prompt == has_ids) {
    return LineError(source, line,
                     "needs exactly one of \"prompt\" (text) and \"prompt_token_ids\"");
  }
  if (has_prompt) {
    if (!j["prompt"].is_string() || j["prompt"].get<std::string>().empty()) {
      return LineError(source, line, "\"prompt\" must be a non-empty string");
    }
    e.prompt = j["prompt"].get<std::string>();
  } else {
    const Json& ids = j["prompt_token_ids"];
    if (!ids.is_array() || ids.empty()) {
      return LineError(source, line, "\"prompt_token_ids\" must be a non-empty array");
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      int32_t id = 0;
      if (!AsInt32(ids[i], &id) || id < 0) {
        return LineError(
            source, line,
            absl::StrCat("\"prompt_token_ids\"[", i, "] is not a token id (", ids[i].dump(), ")"));
      }
      e.prompt_token_ids.push_back(id);
    }
  }
  if (j.contains("output_len")) {
    int32_t n = 0;
    if (!AsInt32(j["output_len"], &n) || n < 1) {
      return LineError(
          source, line,
          absl::StrCat("\"output_len\" must be an integer >= 1, got ", j["output_len"].dump()));
    }
    e.output_len = n;
  }
  return e;
}

}  // namespace

absl::StatusOr<std::vector<DatasetEntry>> ParseJsonlDataset(std::istream& in,
                                                            const std::string& source) {
  std::vector<DatasetEntry> entries;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (absl::StripAsciiWhitespace(text).empty()) continue;
    absl::StatusOr<DatasetEntry> e = ParseLine(text, source, line);
    if (!e.ok()) return e.status();
    entries.push_back(*std::move(e));
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no prompts (one JSON object per line)"));
  }
  return entries;
}

absl::StatusOr<std::vector<DatasetEntry>> LoadJsonlDataset(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open dataset file ", path));
  return ParseJsonlDataset(in, path);
}

}  // namespace gqa::loadgen
