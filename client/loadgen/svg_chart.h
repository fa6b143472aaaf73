// SvgChart: line charts as a standalone SVG document, for gqa-bench's plots
// (latency CDFs, throughput over time, the throughput/latency sweep curve).
// No plotting library is packaged for C++ in Debian; SVG is text, opens in any
// browser, and diffs in review.
//
// Thread ownership: pure functions, no state.
#pragma once

#include <string>
#include <vector>

namespace gqa::loadgen {

// One line; x[i] pairs with y[i]. Points with a non-finite coordinate are
// skipped (a gap in the line).
struct Series {
  std::string name;  // legend entry
  std::vector<double> x;
  std::vector<double> y;
  bool markers = false;  // draw a dot at every point (sweep curves)
};

struct Chart {
  std::string title;
  std::string x_label;  // with units, e.g. "time to first token (ms)"
  std::string y_label;
  bool log_x = false;   // log10 x axis; points with x <= 0 are skipped
  std::vector<Series> series;
};

// The empirical CDF of `values` as a step line: x = sorted values,
// y = fraction of values <= x, in (0, 1].
Series CdfSeries(std::string name, std::vector<double> values);

// One SVG document with `charts` in a grid of `columns` columns (each chart
// 480 x 320 user units), axes with "nice" ticks, grid lines and a legend.
// An empty chart (no finite points) still renders its frame and title.
std::string RenderSvg(const std::vector<Chart>& charts, int columns = 2);

}  // namespace gqa::loadgen
