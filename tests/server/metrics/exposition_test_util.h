// Reading values back out of rendered text-format output, for tests.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"

namespace gqa::testing {

// The lines of `text` (split at '\n'), without the empty last piece.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

// The value of the sample line "<series> <value>", e.g.
// SampleValue(text, "gqa_requests_finished_total{reason=\"eos\"}").
inline std::optional<double> SampleValue(const std::string& text, const std::string& series) {
  for (const std::string& line : Lines(text)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      double value;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// The lines of one family: from "# HELP <name> " up to the next family.
inline std::string FamilyBlock(const std::string& text, const std::string& name) {
  const std::string start = "# HELP " + name + " ";
  const size_t begin = text.find(start);
  if (begin == std::string::npos) return "";
  const size_t end = text.find("# HELP ", begin + start.size());
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Lines that are samples (not comments, not empty).
inline std::vector<std::string> SampleLines(const std::string& text) {
  std::vector<std::string> out;
  for (std::string& line : Lines(text)) {
    if (!line.empty() && line[0] != '#') out.push_back(std::move(line));
  }
  return out;
}

// FamilyBlock's lines with its samples sorted: prometheus-cpp renders the
// series of a family in no fixed order.
inline std::vector<std::string> SortedFamilyLines(const std::string& text,
                                                  const std::string& name) {
  std::vector<std::string> lines = Lines(FamilyBlock(text, name));
  const auto samples = std::find_if(lines.begin(), lines.end(),
                                    [](const std::string& l) { return l.empty() || l[0] != '#'; });
  std::sort(samples, lines.end());
  return lines;
}

}  // namespace gqa::testing
