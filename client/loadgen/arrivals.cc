#include "client/loadgen/arrivals.h"

#include <cmath>
#include <limits>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace gqa::loadgen {

std::vector<double> ArrivalTimes(int n, double rate, double burstiness, uint64_t seed) {
  std::vector<double> times(n > 0 ? n : 0, 0.0);
  if (std::isinf(rate)) return times;
  std::mt19937_64 rng(seed);
  // Mean of Gamma(k, theta) is k * theta = 1 / rate.
  std::gamma_distribution<double> gap(burstiness, 1.0 / (rate * burstiness));
  for (int i = 1; i < n; ++i) times[i] = times[i - 1] + gap(rng);
  return times;
}

absl::StatusOr<double> ParseRequestRate(const std::string& flag, const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "inf" || lower == "infinity") return std::numeric_limits<double>::infinity();
  double rate = 0;
  if (!absl::SimpleAtod(lower, &rate) || !std::isfinite(rate) || rate <= 0) {
    return absl::InvalidArgumentError("--" + flag + ": '" + text +
                                      "' is not a request rate (a number > 0 or 'inf')");
  }
  return rate;
}

absl::StatusOr<std::vector<double>> ParseRequestRates(const std::string& flag,
                                                      const std::string& text) {
  std::vector<double> rates;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    absl::StatusOr<double> rate = ParseRequestRate(flag, std::string(part));
    if (!rate.ok()) return rate.status();
    rates.push_back(*rate);
  }
  if (rates.empty()) {
    return absl::InvalidArgumentError("--" + flag + ": give at least one rate, e.g. 1,2,4,inf");
  }
  return rates;
}

std::string RateName(double rate) {
  if (std::isinf(rate)) return "inf";
  return absl::StrFormat("%g", rate);
}

}  // namespace gqa::loadgen
