#include "client/loadgen/svg_chart.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/loadgen/axis_ticks.h"

namespace gqa::loadgen {
namespace {

// One chart's layout, in SVG user units relative to the chart's top-left corner.
constexpr double kChartWidth = 480;
constexpr double kChartHeight = 320;
constexpr double kPlotLeft = 70;  // room for y tick labels and the rotated y label
constexpr double kPlotRight = 464;
constexpr double kPlotTop = 34;      // room for the title
constexpr double kPlotBottom = 268;  // room for x tick labels and the x label
// Consecutive points closer than this (in both x and y) are drawn as one, so a
// CDF of 100k latencies stays a few hundred points; invisible at any zoom a
// browser offers by default.
constexpr double kMinPointDistance = 0.25;
// Larger magnitudes are skipped like non-finite values: the axis arithmetic
// (range widths, padding) must stay finite.
constexpr double kMaxAbsValue = 1e300;
// Tableau 10: distinct, colour-blind-friendly, readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
// Rough advance of an 11-unit sans-serif glyph, for sizing the legend box.
constexpr double kCharWidth = 6.2;
constexpr double kLegendRow = 15;

struct Point {
  double x;
  double y;
};

struct Rect {
  double x0, y0, x1, y1;
};

// A coordinate with at most 2 decimals, trailing zeros dropped; locale-independent.
std::string Num(double v) {
  v = std::round(v * 100) / 100;
  if (v == 0) v = 0;  // no "-0"
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 2);
  std::string s(buf, end.ptr);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// Length of the valid UTF-8 sequence at s[i], or 0. Rejects overlong forms and
// surrogates, which XML parsers reject too.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto byte = [&](size_t j) { return static_cast<unsigned char>(s[j]); };
  const unsigned char c = byte(i);
  const size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t j = i + 1; j < i + len; ++j) {
    if ((byte(j) & 0xC0) != 0x80) return 0;
  }
  const unsigned char c1 = byte(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 >= 0x90)) {
    return 0;
  }
  return len;
}

// Text safe in XML content and double-quoted attributes. Bytes that cannot
// appear in an XML 1.0 document (control characters, invalid UTF-8) become '?'.
std::string Escape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t len = Utf8Length(text, i);
      out += len == 0 ? std::string_view("?") : text.substr(i, len);
      i += std::max<size_t>(len, 1);
      continue;
    }
    const char* entity = c == '&'    ? "&amp;"
                         : c == '<'  ? "&lt;"
                         : c == '>'  ? "&gt;"
                         : c == '"'  ? "&quot;"
                         : c == '\'' ? "&apos;"
                                     : nullptr;
    if (entity != nullptr) {
      out += entity;
    } else {
      out += (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ? '?' : static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

// Code points, for estimating how wide a label is drawn.
size_t DisplayLength(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool Drawable(double v) { return std::isfinite(v) && std::abs(v) <= kMaxAbsValue; }

// A series' drawable points in data units, split into runs at skipped points.
std::vector<std::vector<Point>> DataRuns(const Series& series, bool log_x) {
  std::vector<std::vector<Point>> runs(1);
  const size_t n = std::min(series.x.size(), series.y.size());
  for (size_t i = 0; i < n; ++i) {
    const double x = series.x[i];
    const double y = series.y[i];
    if (Drawable(x) && Drawable(y) && (!log_x || x > 0)) {
      runs.back().push_back({x, y});
    } else if (!runs.back().empty()) {
      runs.emplace_back();
    }
  }
  if (runs.back().empty()) runs.pop_back();
  return runs;
}

// Maps data units to chart units over one chart's axes.
class Frame {
 public:
  Frame(AxisTicks x, AxisTicks y, bool log_x) : x_(std::move(x)), y_(std::move(y)), log_x_(log_x) {}
  const AxisTicks& x() const { return x_; }
  const AxisTicks& y() const { return y_; }
  double Px(double v) const {
    const double f =
        log_x_ ? (std::log10(v) - std::log10(x_.lo)) / (std::log10(x_.hi) - std::log10(x_.lo))
               : (v - x_.lo) / (x_.hi - x_.lo);
    return kPlotLeft + f * (kPlotRight - kPlotLeft);
  }
  double Py(double v) const {
    return kPlotBottom - (v - y_.lo) / (y_.hi - y_.lo) * (kPlotBottom - kPlotTop);
  }

 private:
  AxisTicks x_;
  AxisTicks y_;
  bool log_x_;
};

// Axes over all runs of all series, or a default frame when there is nothing to draw.
Frame MakeFrame(const std::vector<std::vector<std::vector<Point>>>& runs, bool log_x) {
  bool any = false;
  Point lo{0, 0};
  Point hi{0, 0};
  for (const auto& series_runs : runs) {
    for (const auto& run : series_runs) {
      for (const Point& p : run) {
        lo = any ? Point{std::min(lo.x, p.x), std::min(lo.y, p.y)} : p;
        hi = any ? Point{std::max(hi.x, p.x), std::max(hi.y, p.y)} : p;
        any = true;
      }
    }
  }
  if (!any) {
    lo = {log_x ? 1.0 : 0.0, 0};
    hi = {log_x ? 10.0 : 1.0, 1};
  }
  return Frame(log_x ? LogTicks(lo.x, hi.x) : LinearTicks(lo.x, hi.x), LinearTicks(lo.y, hi.y),
               log_x);
}

// A run in chart units, thinned to points at least kMinPointDistance apart;
// the run's first and last points are always kept.
std::vector<Point> ToChart(const std::vector<Point>& run, const Frame& frame) {
  std::vector<Point> out;
  for (size_t i = 0; i < run.size(); ++i) {
    const Point p{frame.Px(run[i].x), frame.Py(run[i].y)};
    if (!out.empty() && i + 1 < run.size() && std::abs(p.x - out.back().x) < kMinPointDistance &&
        std::abs(p.y - out.back().y) < kMinPointDistance) {
      continue;
    }
    out.push_back(p);
  }
  return out;
}

// Whether segment a-b (a point when a == b) touches the rectangle (Liang-Barsky).
bool Touches(Point a, Point b, const Rect& r) {
  double t0 = 0;
  double t1 = 1;
  const auto clip = [&](double p, double q) {
    if (p == 0) return q >= 0;
    const double t = q / p;
    if (p < 0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
    return true;
  };
  const double dx = b.x - a.x;
  const double dy = b.y - a.y;
  return clip(-dx, a.x - r.x0) && clip(dx, r.x1 - a.x) && clip(-dy, a.y - r.y0) &&
         clip(dy, r.y1 - a.y);
}

// The corner of the plot (top-left, top-right, bottom-right, bottom-left: the
// first on ties) where a w x h legend covers the fewest line segments.
Rect PlaceLegend(const std::vector<std::vector<Point>>& lines, double w, double h) {
  constexpr double kInset = 6;
  const double left = kPlotLeft + kInset;
  const double right = kPlotRight - kInset - w;
  const double top = kPlotTop + kInset;
  const double bottom = kPlotBottom - kInset - h;
  const Point corners[] = {{left, top}, {right, top}, {right, bottom}, {left, bottom}};
  Rect best{};
  size_t best_count = SIZE_MAX;
  for (const Point& c : corners) {
    const Rect r{c.x, c.y, c.x + w, c.y + h};
    size_t count = 0;
    for (const auto& line : lines) {
      for (size_t i = 0; i < line.size(); ++i) {
        count += Touches(line[i], line[i + 1 < line.size() ? i + 1 : i], r);
      }
    }
    if (count < best_count) {
      best_count = count;
      best = r;
    }
  }
  return best;
}

void AppendText(std::string& out, double x, double y, const char* attrs, std::string_view text) {
  out +=
      "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"" + attrs + ">" + Escape(text) + "</text>\n";
}

void AppendLine(std::string& out, double x1, double y1, double x2, double y2, const char* stroke) {
  out += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
         Num(y2) + "\" stroke=\"" + stroke + "\"/>\n";
}

// Grid lines, frame, tick labels and axis labels.
void AppendAxes(std::string& out, const Chart& chart, const Frame& frame) {
  for (double v : frame.x().minor) {
    AppendLine(out, frame.Px(v), kPlotTop, frame.Px(v), kPlotBottom, "#f0f0f0");
  }
  for (double v : frame.x().ticks) {
    AppendLine(out, frame.Px(v), kPlotTop, frame.Px(v), kPlotBottom, "#dddddd");
    const std::string label = FormatTick(v, frame.x().resolution);
    // A long label under the right edge would spill into the next chart.
    const double max_x = kChartWidth - 2 - DisplayLength(label) * kCharWidth / 2;
    AppendText(out, std::min(frame.Px(v), max_x), kPlotBottom + 15, " text-anchor=\"middle\"",
               label);
  }
  for (double v : frame.y().ticks) {
    AppendLine(out, kPlotLeft, frame.Py(v), kPlotRight, frame.Py(v), "#dddddd");
    AppendText(out, kPlotLeft - 5, frame.Py(v) + 4, " text-anchor=\"end\"",
               FormatTick(v, frame.y().resolution));
  }
  AppendText(out, (kPlotLeft + kPlotRight) / 2, kPlotBottom + 34, " text-anchor=\"middle\"",
             chart.x_label);
  const double mid_y = (kPlotTop + kPlotBottom) / 2;
  out += "<text transform=\"translate(14," + Num(mid_y) +
         ") rotate(-90)\" text-anchor=\"middle\">" + Escape(chart.y_label) + "</text>\n";
  AppendText(out, kChartWidth / 2, 21,
             " text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\"", chart.title);
}

void AppendMarkers(std::string& out, const std::vector<Point>& line, const char* color) {
  for (const Point& p : line) {
    out += "<circle cx=\"" + Num(p.x) + "\" cy=\"" + Num(p.y) + "\" r=\"2.5\" fill=\"" + color +
           "\"/>\n";
  }
}

// One chart as a <g> translated to (`x`, `y`).
void AppendChart(std::string& out, const Chart& chart, double x, double y) {
  out += "<g transform=\"translate(" + Num(x) + "," + Num(y) + ")\">\n";
  std::vector<std::vector<std::vector<Point>>> runs;
  for (const Series& series : chart.series) runs.push_back(DataRuns(series, chart.log_x));
  const Frame frame = MakeFrame(runs, chart.log_x);
  AppendAxes(out, chart, frame);

  std::vector<std::vector<Point>> lines;  // every drawn run, for placing the legend
  bool any = false;
  for (size_t s = 0; s < chart.series.size(); ++s) {
    const char* color = kPalette[s % kPaletteSize];
    for (const auto& run : runs[s]) {
      lines.push_back(ToChart(run, frame));
      const std::vector<Point>& line = lines.back();
      any = true;
      if (line.size() > 1) {
        out += "<polyline fill=\"none\" stroke=\"" + std::string(color) +
               "\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"";
        for (size_t i = 0; i < line.size(); ++i) {
          if (i > 0) out += ' ';
          out += Num(line[i].x);
          out += ',';
          out += Num(line[i].y);
        }
        out += "\"/>\n";
      }
      // A lone point has no line to show it.
      if (chart.series[s].markers || line.size() == 1) AppendMarkers(out, line, color);
    }
  }
  out += "<rect x=\"" + Num(kPlotLeft) + "\" y=\"" + Num(kPlotTop) + "\" width=\"" +
         Num(kPlotRight - kPlotLeft) + "\" height=\"" + Num(kPlotBottom - kPlotTop) +
         "\" fill=\"none\" stroke=\"#333333\"/>\n";
  if (!any) {
    AppendText(out, (kPlotLeft + kPlotRight) / 2, (kPlotTop + kPlotBottom) / 2,
               " text-anchor=\"middle\" fill=\"#888888\"", "no data");
  }

  if (!chart.series.empty()) {
    size_t longest = 0;
    for (const Series& series : chart.series) {
      longest = std::max(longest, DisplayLength(series.name));
    }
    const double w = std::min(34 + kCharWidth * longest, kPlotRight - kPlotLeft - 12);
    const double h = kLegendRow * chart.series.size() + 6;
    const Rect box = PlaceLegend(lines, w, h);
    out += "<rect x=\"" + Num(box.x0) + "\" y=\"" + Num(box.y0) + "\" width=\"" + Num(w) +
           "\" height=\"" + Num(h) +
           "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999999\"/>\n";
    for (size_t s = 0; s < chart.series.size(); ++s) {
      const char* color = kPalette[s % kPaletteSize];
      const double row_y = box.y0 + 3 + kLegendRow * (s + 0.5);
      out += "<line x1=\"" + Num(box.x0 + 6) + "\" y1=\"" + Num(row_y) + "\" x2=\"" +
             Num(box.x0 + 26) + "\" y2=\"" + Num(row_y) + "\" stroke=\"" + color +
             "\" stroke-width=\"2\"/>\n";
      if (chart.series[s].markers) AppendMarkers(out, {{box.x0 + 16, row_y}}, color);
      AppendText(out, box.x0 + 30, row_y + 4, "", chart.series[s].name);
    }
  }
  out += "</g>\n";
}

}  // namespace

// Returns the step line through (u_0, F_0), then (u_j, F_{j-1}), (u_j, F_j) for
// j = 1 .. m-1, where u_0 < ... < u_{m-1} are the distinct finite values and
// F_j = (number of finite values <= u_j) / n, n = number of finite values:
// 2m - 1 points, flat then vertical, the last at y = 1. Without ties the upper
// corners are (sorted[i], (i + 1) / n). No finite values: no points.
Series CdfSeries(std::string name, std::vector<double> values) {
  Series series;
  series.name = std::move(name);
  values.erase(
      std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
      values.end());
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (i + 1 < values.size() && values[i + 1] == values[i]) continue;  // a tie: take its top
    const double fraction = static_cast<double>(i + 1) / n;
    if (!series.y.empty()) {  // the flat part at the previous fraction
      series.x.push_back(values[i]);
      series.y.push_back(series.y.back());
    }
    series.x.push_back(values[i]);
    series.y.push_back(fraction);
  }
  return series;
}

// Charts fill the grid row by row; `columns` is clamped to [1, charts.size()].
// No charts: a blank document of one chart's size.
std::string RenderSvg(const std::vector<Chart>& charts, int columns) {
  const int count = static_cast<int>(charts.size());
  columns = std::clamp(columns, 1, std::max(count, 1));
  const int rows = std::max((count + columns - 1) / columns, 1);
  const std::string width = Num(columns * kChartWidth);
  const std::string height = Num(rows * kChartHeight);
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
      width + "\" height=\"" + height + "\" viewBox=\"0 0 " + width + " " + height +
      "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"" +
      width + "\" height=\"" + height + "\" fill=\"white\"/>\n";
  for (int i = 0; i < count; ++i) {
    AppendChart(out, charts[i], (i % columns) * kChartWidth, (i / columns) * kChartHeight);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace gqa::loadgen
