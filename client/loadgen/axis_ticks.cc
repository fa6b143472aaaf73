#include "client/loadgen/axis_ticks.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace gqa::loadgen {
namespace {

// Slack for comparisons of quotients like lo / step that should be integers.
constexpr double kEps = 1e-9;
// Beyond this, integer tick indices are no longer exact in a double.
constexpr double kMaxTickIndex = 1e15;

// 10^e; exact for 0 <= e <= 22.
double Pow10(int e) {
  double p = 1;
  for (int i = 0; i < std::abs(e); ++i) p *= 10;
  return e >= 0 ? p : 1 / p;
}

// k * 10^e as the double nearest the decimal value: 10^|e| is exact, so one
// multiply or divide rounds once (3 * 0.2 would round twice and miss 0.6).
double Decimal(double k, int e) { return e >= 0 ? k * Pow10(e) : k / Pow10(-e); }

// Removes trailing zeros after a decimal point, and the point itself.
void TrimZeros(std::string& s) {
  if (s.find('.') == std::string::npos) return;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
}

}  // namespace

AxisTicks LinearTicks(double lo, double hi) {
  if (!(lo < hi)) {
    const double pad = lo == 0 ? 1 : std::max(std::abs(lo) / 10, 1e-300);
    lo -= pad;
    hi += pad;
  }
  AxisTicks axis;
  const double span = hi - lo;
  if (!std::isfinite(span) || !(span > 0)) {  // beyond any sensible chart; label the ends
    axis = {lo, hi, {lo, hi}, {}, 0};
    return axis;
  }
  const int e0 = static_cast<int>(std::floor(std::log10(span / 6)));
  int best_score = std::numeric_limits<int>::max();
  for (int e = e0 - 1; e <= e0 + 1; ++e) {
    for (int mult : {1, 2, 5}) {  // ascending steps, so ties go to the larger one
      const double step = Decimal(mult, e);
      const double k_lo = std::floor(lo / step + kEps);
      const double k_hi = std::ceil(hi / step - kEps);
      if (std::abs(k_lo) * mult > kMaxTickIndex || std::abs(k_hi) * mult > kMaxTickIndex) continue;
      const int count = static_cast<int>(k_hi - k_lo) + 1;
      const int score = std::abs(count - 6);
      if (score > best_score) continue;
      best_score = score;
      axis.ticks.clear();
      for (double k = k_lo; k <= k_hi; ++k) axis.ticks.push_back(Decimal(k * mult, e));
      axis.resolution = step;
    }
  }
  if (axis.ticks.empty()) {  // span far below the values' precision
    axis = {lo, hi, {lo, hi}, {}, 0};
    return axis;
  }
  // kEps may put an end tick a hair inside the data; the range still covers it.
  axis.lo = std::min(axis.ticks.front(), lo);
  axis.hi = std::max(axis.ticks.back(), hi);
  return axis;
}

AxisTicks LogTicks(double lo, double hi) {
  lo = std::clamp(lo, 1e-300, 1e300);
  hi = std::clamp(hi, lo, 1e300);
  if (!(lo < hi)) {
    lo /= 2;
    hi *= 2;
  }
  AxisTicks axis;
  axis.resolution = 0;
  int d_lo = static_cast<int>(std::floor(std::log10(lo) + kEps));
  int d_hi = static_cast<int>(std::ceil(std::log10(hi) - kEps));
  if (d_hi - d_lo > 2) {
    // Whole decades; label every `every`-th (multiples of it) so at most ~10 labels.
    const int every = (d_hi - d_lo + 8) / 9;
    d_lo = static_cast<int>(std::floor(static_cast<double>(d_lo) / every)) * every;
    d_hi = static_cast<int>(std::ceil(static_cast<double>(d_hi) / every)) * every;
    for (int d = d_lo; d <= d_hi; ++d) {
      if ((d - d_lo) % every == 0) {
        axis.ticks.push_back(Decimal(1, d));
      } else {
        axis.minor.push_back(Decimal(1, d));
      }
      // 2..9 x 10^d only where decades are wide enough to read them.
      for (int m = 2; m <= 9 && d < d_hi && every == 1; ++m) axis.minor.push_back(Decimal(m, d));
    }
    axis.lo = std::min(axis.ticks.front(), lo);
    axis.hi = std::max(axis.ticks.back(), hi);
    return axis;
  }
  // At most 2 decades: label 1, 2 and 5 x 10^k, range rounded out to that grid.
  double grid_lo = Decimal(1, d_lo);
  double grid_hi = Decimal(1, d_hi);
  for (int m : {2, 5}) {
    if (Decimal(m, d_lo) <= lo * (1 + kEps)) grid_lo = Decimal(m, d_lo);
  }
  for (int m : {5, 2}) {
    if (Decimal(m, d_hi - 1) >= hi * (1 - kEps)) grid_hi = Decimal(m, d_hi - 1);
  }
  for (int d = d_lo; d <= d_hi; ++d) {
    for (int m = 1; m <= 9; ++m) {
      const double v = Decimal(m, d);
      if (v < grid_lo || v > grid_hi) continue;
      if (m == 1 || m == 2 || m == 5) {
        axis.ticks.push_back(v);
      } else {
        axis.minor.push_back(v);
      }
    }
  }
  axis.lo = std::min(grid_lo, lo);
  axis.hi = std::max(grid_hi, hi);
  return axis;
}

std::string FormatTick(double value, double resolution) {
  if (!std::isfinite(value)) return "";
  static constexpr struct {
    double scale;
    const char* suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}};
  double scale = 1;
  const char* suffix = "";
  for (const auto& unit : kUnits) {
    if (std::abs(value) >= unit.scale) {
      scale = unit.scale;
      suffix = unit.suffix;
      break;
    }
  }
  const double scaled = value / scale;
  char buf[64];
  std::to_chars_result end;
  if (resolution > 0 && std::isfinite(resolution)) {
    const double digits = std::ceil(-std::log10(resolution / scale) - kEps);
    const int decimals = static_cast<int>(std::clamp(digits, 0.0, 15.0));
    end = std::to_chars(buf, buf + sizeof(buf), scaled, std::chars_format::fixed, decimals);
  } else {
    // The shortest form that reads back exactly, never in exponent form.
    end = std::to_chars(buf, buf + sizeof(buf), scaled, std::chars_format::fixed);
  }
  std::string text(buf, end.ptr);
  TrimZeros(text);
  if (text == "-0") text = "0";
  return text + suffix;
}

}  // namespace gqa::loadgen
