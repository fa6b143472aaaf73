#include "client/loadgen/bench_plots.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <utility>

#include "client/loadgen/arrivals.h"

namespace gqa::loadgen {
namespace {

// Per-request latencies in ms of the completed requests (as the metrics use).
struct Latencies {
  std::vector<double> ttft, tpot, itl, e2el;
};

Latencies CollectLatencies(const std::vector<RequestRecord>& records) {
  Latencies l;
  for (const RequestRecord& r : records) {
    if (!r.ok()) continue;
    l.e2el.push_back(E2eSeconds(r) * 1e3);
    if (!r.has_tokens()) continue;
    l.ttft.push_back(TtftSeconds(r) * 1e3);
    if (r.output_len > 1) l.tpot.push_back(TpotSeconds(r) * 1e3);
    for (double gap : ItlSeconds(r)) l.itl.push_back(gap * 1e3);
  }
  return l;
}

Chart CdfChart(const std::string& title, const std::string& x_label,
               const std::string& y_label = "fraction of requests") {
  Chart c;
  c.title = title;
  c.x_label = x_label;
  c.y_label = y_label;
  return c;
}

// Median and p99 of a latency (picked by `summary`) against a throughput.
Chart SweepChart(const BenchResult& result, const std::string& title, const std::string& x_label,
                 const std::string& y_label, const std::string& latency_name,
                 const std::function<double(const BenchmarkMetrics&)>& x_of,
                 const std::function<const Summary&(const BenchmarkMetrics&)>& summary) {
  std::vector<std::pair<double, const BenchmarkMetrics*>> points;
  for (const RunResult& run : result.runs) points.push_back({x_of(run.metrics), &run.metrics});
  // A line through the points in x order, whatever order the rates came in.
  std::sort(points.begin(), points.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  Series median{"median " + latency_name, {}, {}, true};
  Series p99{"p99 " + latency_name, {}, {}, true};
  for (const auto& [x, m] : points) {
    median.x.push_back(x);
    median.y.push_back(summary(*m).median);
    p99.x.push_back(x);
    p99.y.push_back(summary(*m).p99);
  }
  Chart c;
  c.title = title;
  c.x_label = x_label;
  c.y_label = y_label;
  c.series = {std::move(median), std::move(p99)};
  return c;
}

}  // namespace

std::vector<Chart> RunCharts(const RunResult& run) {
  Latencies l = CollectLatencies(run.records);
  const std::string rate = "rate " + RateName(run.request_rate);
  Chart ttft = CdfChart("Time to first token", "TTFT (ms)");
  ttft.series.push_back(CdfSeries(rate, std::move(l.ttft)));
  Chart tpot = CdfChart("Time per output token (excl. 1st)", "TPOT (ms)");
  tpot.series.push_back(CdfSeries(rate, std::move(l.tpot)));
  Chart itl = CdfChart("Inter-token latency", "ITL (ms)", "fraction of token gaps");
  itl.series.push_back(CdfSeries(rate, std::move(l.itl)));
  Chart e2el = CdfChart("End-to-end latency", "E2E latency (ms)");
  e2el.series.push_back(CdfSeries(rate, std::move(l.e2el)));

  Chart throughput;
  throughput.title = "Output throughput over time";
  throughput.x_label = "time since start (s)";
  // Tokens per 1 s bucket; the last bucket may cover less than 1 s.
  throughput.y_label = "output tokens/s (1 s buckets)";
  Series tokens{"output tokens/s", {}, {}, false};
  const std::vector<double>& buckets = run.metrics.output_tokens_per_s;
  for (size_t i = 0; i < buckets.size(); ++i) {
    tokens.x.push_back(static_cast<double>(i) + 0.5);  // bucket [i, i + 1) at its middle
    tokens.y.push_back(buckets[i]);
  }
  throughput.series.push_back(std::move(tokens));
  return {std::move(ttft), std::move(tpot), std::move(itl), std::move(e2el), std::move(throughput)};
}

std::vector<Chart> SweepCharts(const BenchResult& result) {
  auto request_tput = [](const BenchmarkMetrics& m) { return m.request_throughput; };
  auto output_tput = [](const BenchmarkMetrics& m) { return m.output_throughput; };
  auto ttft = [](const BenchmarkMetrics& m) -> const Summary& { return m.ttft_ms; };
  auto tpot = [](const BenchmarkMetrics& m) -> const Summary& { return m.tpot_ms; };
  std::vector<Chart> charts = {
      SweepChart(result, "TTFT vs request throughput", "achieved requests/s", "TTFT (ms)", "TTFT",
                 request_tput, ttft),
      SweepChart(result, "TPOT vs request throughput", "achieved requests/s", "TPOT (ms)", "TPOT",
                 request_tput, tpot),
      SweepChart(result, "TTFT vs output throughput", "achieved output tokens/s", "TTFT (ms)",
                 "TTFT", output_tput, ttft),
      SweepChart(result, "TPOT vs output throughput", "achieved output tokens/s", "TPOT (ms)",
                 "TPOT", output_tput, tpot),
  };
  Chart ttft_cdf = CdfChart("TTFT per request rate", "TTFT (ms)");
  Chart tpot_cdf = CdfChart("TPOT per request rate", "TPOT (ms)");
  for (const RunResult& run : result.runs) {
    Latencies l = CollectLatencies(run.records);
    const std::string name = "rate " + RateName(run.request_rate);
    ttft_cdf.series.push_back(CdfSeries(name, std::move(l.ttft)));
    tpot_cdf.series.push_back(CdfSeries(name, std::move(l.tpot)));
  }
  charts.push_back(std::move(ttft_cdf));
  charts.push_back(std::move(tpot_cdf));
  return charts;
}

absl::Status WritePlot(const std::string& path, const BenchResult& result) {
  const std::vector<Chart> charts =
      result.runs.size() == 1 ? RunCharts(result.runs[0]) : SweepCharts(result);
  std::ofstream out(path);
  if (!out) return absl::UnavailableError("cannot write " + path);
  out << RenderSvg(charts, 2);
  out.close();
  if (!out) return absl::DataLossError("error writing " + path);
  return absl::OkStatus();
}

}  // namespace gqa::loadgen
