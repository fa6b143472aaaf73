#include "client/loadgen/svg_chart.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gqa::loadgen {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++count;
  }
  return count;
}

// Empty when `text` is a single well-formed XML element (after an optional
// <?xml ...?> declaration), else what is wrong. Checks tag nesting, quoted
// attributes, and that '<' and '&' appear only as markup and known entities.
std::string XmlProblem(const std::string& text) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  const auto entity_ok = [&](size_t at) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (text.compare(at, std::string(e).size(), e) == 0) return true;
    }
    return false;
  };
  if (text.rfind("<?xml", 0) == 0) i = text.find("?>") + 2;
  while (i < text.size()) {
    if (text[i] == '&' && !entity_ok(i)) return "bad entity at " + std::to_string(i);
    if (text[i] == '>') return "stray '>' at " + std::to_string(i);
    if (text[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(text[i]))) {
        return "text outside the root at " + std::to_string(i);
      }
      ++i;
      continue;
    }
    const bool closing = text[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-'))
      ++j;
    const std::string name = text.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    // Attributes: name="value" pairs; values free of '<' and raw '&'.
    while (j < text.size() && text[j] != '>' && text[j] != '/') {
      if (text[j] == '"') {
        const size_t end = text.find('"', j + 1);
        if (end == std::string::npos) return "unterminated attribute";
        for (size_t k = j + 1; k < end; ++k) {
          if (text[k] == '<') return "'<' in an attribute at " + std::to_string(k);
          if (text[k] == '&' && !entity_ok(k)) return "bad entity at " + std::to_string(k);
        }
        j = end + 1;
      } else {
        if (text[j] == '<' || text[j] == '\'') return "bad tag at " + std::to_string(i);
        ++j;
      }
    }
    if (j >= text.size()) return "unterminated tag";
    const bool self_closing = text[j] == '/';
    if (self_closing && (closing || text[j + 1] != '>')) return "bad '/' at " + std::to_string(j);
    i = j + (self_closing ? 2 : 1);
    if (closing) {
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
    } else {
      if (open.empty()) ++roots;
      if (!self_closing) open.push_back(name);
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "expected one root element, got " + std::to_string(roots);
  return "";
}

// Python's XML parser as a second opinion: true = parsed, false = failed;
// skips (returns true) without python3.
bool PythonParses(const std::string& svg, const std::string& name) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) return true;
  const std::string path = ::testing::TempDir() + "/" + name + ".svg";
  std::ofstream(path, std::ios::binary) << svg;
  const std::string command =
      "python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' " + path;
  return std::system(command.c_str()) == 0;
}

Chart LineChart(std::string title, std::vector<double> x, std::vector<double> y) {
  Chart chart;
  chart.title = std::move(title);
  chart.x_label = "x (ms)";
  chart.y_label = "y";
  chart.series.push_back({"line", std::move(x), std::move(y)});
  return chart;
}

TEST(CdfSeriesTest, StepLineOverFiniteValues) {
  Series cdf = CdfSeries("ttft", {3, 1, kNan, 2, kInf, 2, -kInf});
  EXPECT_EQ(cdf.name, "ttft");
  EXPECT_FALSE(cdf.markers);
  // Finite values 1, 2, 2, 3 (n = 4); the tie at 2 jumps straight to 3/4.
  EXPECT_EQ(cdf.x, (std::vector<double>{1, 2, 2, 3, 3}));
  EXPECT_EQ(cdf.y, (std::vector<double>{0.25, 0.25, 0.75, 0.75, 1}));

  cdf = CdfSeries("no ties", {0.5, 0.1, 0.3});
  EXPECT_EQ(cdf.x, (std::vector<double>{0.1, 0.3, 0.3, 0.5, 0.5}));
  EXPECT_EQ(cdf.y, (std::vector<double>{1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3, 1}));

  cdf = CdfSeries("one", {7});
  EXPECT_EQ(cdf.x, (std::vector<double>{7}));
  EXPECT_EQ(cdf.y, (std::vector<double>{1}));

  cdf = CdfSeries("all equal", {4, 4, 4});
  EXPECT_EQ(cdf.x, (std::vector<double>{4}));
  EXPECT_EQ(cdf.y, (std::vector<double>{1}));

  EXPECT_TRUE(CdfSeries("empty", {}).x.empty());
  EXPECT_TRUE(CdfSeries("no finite", {kNan, kInf}).y.empty());
}

TEST(RenderSvgTest, StandaloneWellFormedDocument) {
  Chart cdf;
  cdf.title = "TTFT";
  cdf.x_label = "time to first token (ms)";
  cdf.y_label = "fraction of requests";
  cdf.log_x = true;
  cdf.series.push_back(CdfSeries("rate 1", {0.3, 2, 40, 4000}));
  cdf.series.push_back(CdfSeries("rate 8", {5, 6, 7}));
  Chart sweep = LineChart("sweep", {1, 2, 4}, {10, 12, 30});
  sweep.series[0].markers = true;
  const std::string svg = RenderSvg({cdf, sweep});
  EXPECT_EQ(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0), 0u);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("width=\"960\" height=\"320\""), std::string::npos);
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_TRUE(PythonParses(svg, "well_formed"));
  EXPECT_EQ(CountOf(svg, "<polyline"), 3u);
  EXPECT_EQ(CountOf(svg, "<circle"), 3u + 1u);  // 3 points + the legend's sample marker
  // Log ticks over [0.3, 4000]; linear ticks over [10, 30] (step 5).
  for (const char* label :
       {">0.1</text>", ">1</text>", ">10k</text>", ">10</text>", ">15</text>", ">30</text>"}) {
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  }
  EXPECT_EQ(RenderSvg({cdf, sweep}), svg);  // deterministic
}

TEST(RenderSvgTest, EscapesTextEverywhere) {
  Chart chart = LineChart("p99 <&> \"tail\"", {1, 2}, {3, 4});
  chart.x_label = "a&b";
  chart.y_label = "<y>";
  chart.series[0].name = "\"quoted\" & 'single'";
  chart.series.push_back({std::string("bad\x01utf8 \xff\xc3(", 12), {1}, {1}});
  const std::string svg = RenderSvg({chart});
  EXPECT_NE(svg.find(">p99 &lt;&amp;&gt; &quot;tail&quot;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">a&amp;b</text>"), std::string::npos);
  EXPECT_NE(svg.find(">&lt;y&gt;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">&quot;quoted&quot; &amp; &apos;single&apos;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">bad?utf8 ?\?(</text>"), std::string::npos);
  EXPECT_EQ(svg.find("<&>"), std::string::npos);
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_TRUE(PythonParses(svg, "escaped"));
}

TEST(RenderSvgTest, EverySeriesNameIsInTheLegend) {
  Chart chart;
  chart.title = "tokens/s";
  for (int i = 0; i < 12; ++i) {  // more series than palette colours
    chart.series.push_back(
        {"series " + std::to_string(i), {0, 1, 2}, {static_cast<double>(i), 1.0 * i + 1, 0}});
  }
  chart.series.push_back({"no points", {}, {}});
  const std::string svg = RenderSvg({chart});
  for (const Series& series : chart.series) {
    EXPECT_EQ(CountOf(svg, ">" + series.name + "</text>"), 1u) << series.name;
  }
  // Palette of 10 colours: series 10 reuses series 0's.
  EXPECT_EQ(CountOf(svg, "stroke=\"#1f77b4\""), 2u * 2u);  // 2 polylines + 2 legend lines
  EXPECT_EQ(XmlProblem(svg), "");
}

TEST(RenderSvgTest, NonFinitePointsMakeGapsNotText) {
  Chart chart = LineChart("gaps", {1, 2, kNan, 4, 5, 6, 7}, {1, 2, 3, 4, kInf, -kInf, 7});
  chart.series.push_back({"ragged", {1, 2, 3}, {1}});  // y shorter: only one point pairs
  const std::string svg = RenderSvg({chart});
  // Runs {1, 2}, {4}, {7}: one polyline, two lone points drawn as dots; plus "ragged".
  EXPECT_EQ(CountOf(svg, "<polyline"), 1u);
  EXPECT_EQ(CountOf(svg, "<circle"), 3u);
  for (const char* bad : {"nan", "NaN", "inf", "Inf"}) {
    EXPECT_EQ(svg.find(bad), std::string::npos) << bad;
  }

  Chart log_chart = LineChart("log", {-1, 0, 1, 10, 0, 100, 1000}, {1, 2, 3, 4, 5, 6, 7});
  log_chart.log_x = true;  // x <= 0 is skipped: runs {1, 10} and {100, 1000}
  const std::string log_svg = RenderSvg({log_chart});
  EXPECT_EQ(CountOf(log_svg, "<polyline"), 2u);
  EXPECT_EQ(log_svg.find("nan"), std::string::npos);
  EXPECT_EQ(log_svg.find("inf"), std::string::npos);
  EXPECT_NE(log_svg.find(">1k</text>"), std::string::npos);
  EXPECT_EQ(XmlProblem(log_svg), "");
}

TEST(RenderSvgTest, EmptyAndDegenerateCharts) {
  Chart empty;
  empty.title = "nothing yet";
  Chart all_nan = LineChart("no finite point", {kNan}, {kNan});
  Chart one_point = LineChart("one point", {5}, {5});
  Chart log_one = LineChart("log one", {100, 100}, {1, 1});
  log_one.log_x = true;
  const std::string svg = RenderSvg({empty, all_nan, one_point, log_one}, 2);
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_TRUE(PythonParses(svg, "empty"));
  EXPECT_EQ(CountOf(svg, ">no data</text>"), 2u);
  EXPECT_NE(svg.find(">nothing yet</text>"), std::string::npos);
  EXPECT_NE(svg.find("width=\"960\" height=\"640\""), std::string::npos);
  EXPECT_NE(svg.find("translate(480,320)"), std::string::npos);
  EXPECT_NE(svg.find(">5.2</text>"), std::string::npos);  // 5 widened to [4.4, 5.6]
  EXPECT_NE(svg.find(">200</text>"), std::string::npos);  // log 100 widened to [50, 200]
  EXPECT_EQ(svg.find("nan"), std::string::npos);

  const std::string none = RenderSvg({});
  EXPECT_EQ(XmlProblem(none), "");
  EXPECT_NE(none.find("width=\"480\" height=\"320\""), std::string::npos);
}

TEST(RenderSvgTest, GridColumnsAreClamped) {
  const Chart chart = LineChart("c", {0, 1}, {0, 1});
  EXPECT_NE(RenderSvg({chart, chart, chart}, 2).find("width=\"960\" height=\"640\""),
            std::string::npos);
  EXPECT_NE(RenderSvg({chart, chart}, 0).find("width=\"480\" height=\"640\""), std::string::npos);
  EXPECT_NE(RenderSvg({chart}, 5).find("width=\"480\" height=\"320\""), std::string::npos);
}

TEST(RenderSvgTest, LargeCdfStaysSmall) {
  std::vector<double> values;
  for (int i = 0; i < 100000; ++i) values.push_back(1 + std::exp(std::sin(i * 0.37) * 3));
  Chart chart;
  chart.log_x = true;
  chart.series.push_back(CdfSeries("100k", values));
  const std::string svg = RenderSvg({chart});
  EXPECT_LT(svg.size(), 40000u);  // ~200k points thinned to a few per user unit of path
  EXPECT_EQ(XmlProblem(svg), "");
}

}  // namespace
}  // namespace gqa::loadgen
