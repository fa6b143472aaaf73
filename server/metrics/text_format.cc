#include "server/metrics/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

namespace gqa::metrics {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (truncated, overlong, surrogate, above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Escapes `\` and newline always, `"` when `escape_quote`; repairs UTF-8.
std::string Escape(std::string_view in, bool escape_quote) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    const size_t len = Utf8SequenceLength(in, i);
    if (len == 0) {
      out.append(kReplacementChar);
      ++i;
      continue;
    }
    if (len == 1) {
      const char c = in[i];
      if (c == '\\') {
        out.append("\\\\");
      } else if (c == '\n') {
        out.append("\\n");
      } else if (c == '"' && escape_quote) {
        out.append("\\\"");
      } else {
        out.push_back(c);
      }
    } else {
      out.append(in.substr(i, len));
    }
    i += len;
  }
  return out;
}

// name{l1="v1",l2="v2",extra_name="extra_value"} value\n
void AppendSample(std::string* out, std::string_view name, const std::vector<Label>& labels,
                  const Label* extra, double value) {
  out->append(name);
  if (!labels.empty() || extra != nullptr) {
    out->push_back('{');
    bool first = true;
    const auto append_label = [&](const Label& label) {
      if (!first) out->push_back(',');
      first = false;
      absl::StrAppend(out, label.name, "=\"", EscapeLabelValue(label.value), "\"");
    };
    for (const Label& label : labels) append_label(label);
    if (extra != nullptr) append_label(*extra);
    out->push_back('}');
  }
  absl::StrAppend(out, " ", FormatNumber(value), "\n");
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendHistogram(std::string* out, const std::string& name, const SeriesSnapshot& series) {
  const HistogramSnapshot& h = series.histogram;
  const std::string bucket_name = name + "_bucket";
  for (size_t i = 0; i < h.cumulative_counts.size(); ++i) {
    const double le = i < h.upper_bounds.size() ? h.upper_bounds[i] : INFINITY;
    const Label le_label{"le", FormatNumber(le)};
    AppendSample(out, bucket_name, series.labels, &le_label,
                 static_cast<double>(h.cumulative_counts[i]));
  }
  AppendSample(out, name + "_sum", series.labels, nullptr, h.sum);
  AppendSample(out, name + "_count", series.labels, nullptr, static_cast<double>(h.count));
}

}  // namespace

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  constexpr double kTwoTo53 = 9007199254740992.0;
  if (value == std::trunc(value) && std::fabs(value) < kTwoTo53) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buf[32];
  // Shortest form that parses back to the same double, spelled like printf
  // %g: fixed unless the exponent is < -4 or >= the digit count.
  const auto result = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general);
  return std::string(buf, result.ptr);
}

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

std::string EscapeHelp(std::string_view help) { return Escape(help, false); }

std::string RenderTextFormat(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& family : families) {
    absl::StrAppend(&out, "# HELP ", family.name, " ", EscapeHelp(family.help), "\n");
    absl::StrAppend(&out, "# TYPE ", family.name, " ", std::string(TypeName(family.type)), "\n");
    for (const SeriesSnapshot& series : family.series) {
      if (family.type == MetricType::kHistogram) {
        AppendHistogram(&out, family.name, series);
      } else {
        AppendSample(&out, family.name, series.labels, nullptr, series.value);
      }
    }
  }
  return out;
}

}  // namespace gqa::metrics
