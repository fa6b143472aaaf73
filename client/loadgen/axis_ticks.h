// Axis ranges, tick positions and tick labels for SvgChart (svg_chart.h).
// Internal to client/loadgen; exposed so the tick rules can be tested exactly.
//
// Thread ownership: pure functions, no state.
#pragma once

#include <string>
#include <vector>

namespace gqa::loadgen {

// An axis in data units: the drawn range and where its ticks go.
struct AxisTicks {
  double lo = 0;              // drawn range; covers every data point it was made from
  double hi = 1;              // lo < hi always
  std::vector<double> ticks;  // labelled ticks and grid lines, ascending, in [lo, hi]
  std::vector<double> minor;  // log axes only: unlabelled (faint grid lines), ascending
  double resolution = 1;      // linear: the tick step (pass to FormatTick); log: 0
};

// Linear axis over the data range [data_lo, data_hi] (finite, data_lo <= data_hi).
// The step is 1, 2 or 5 x 10^k, the one whose tick count (after rounding the
// range outward to multiples of the step) is closest to 6; ties go to the
// larger step. So [0, 97] -> 0, 20, ..., 100 and [0, 1] -> 0, 0.2, ..., 1.
// Ticks are computed as integer * 10^k (or integer / 10^-k), so 0.6 is the
// double nearest 0.6, not 3 * 0.2.
// A degenerate range v == v is widened to v +- |v| / 10 ([-1, 1] for v = 0).
// Data beyond +-1e300 is not supported (the caller skips it).
AxisTicks LinearTicks(double data_lo, double data_hi);

// log10 axis over [data_lo, data_hi] (finite, 0 < data_lo <= data_hi).
// Over more than 2 decades once rounded out to powers of 10: the range is those
// decades, each labelled and 2..9 x 10^k as minor marks: [0.3, 4000] -> 0.1,
// 1, ..., 10000. Beyond 10 labels only every 2nd (3rd...) decade is labelled,
// at multiples of 2 (3...), the others are the minor marks.
// Over at most 2 decades: 2 and 5 x 10^k are labelled too and the range is
// rounded out to that 1-2-5 grid: [12, 35] -> ticks 10, 20, 50 over [10, 50].
// A degenerate range v == v is widened to [v / 2, 2 v]. Data is clamped to
// [1e-300, 1e300].
AxisTicks LogTicks(double data_lo, double data_hi);

// A compact tick label: k, M, G, T suffixes from 1000 up, with just enough
// decimals to tell multiples of `resolution` apart (resolution <= 0: the
// shortest exact form), trailing zeros dropped, never an exponent. FormatTick(2500000, 500000) ==
// "2.5M", FormatTick(0.5, 0.5) == "0.5", FormatTick(1, 0.5) == "1",
// FormatTick(0.001, 0) == "0.001". Locale-independent.
std::string FormatTick(double value, double resolution);

}  // namespace gqa::loadgen
