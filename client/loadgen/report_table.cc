#include "client/loadgen/report_table.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "client/loadgen/arrivals.h"

namespace gqa::loadgen {
namespace {

void Row(std::ostream& out, const std::string& name, const std::string& value) {
  out << absl::StrFormat("%-40s %s\n", name, value);
}
void Row(std::ostream& out, const std::string& name, double value) {
  Row(out, name, absl::StrFormat("%.2f", value));
}
void Row(std::ostream& out, const std::string& name, int64_t value) {
  Row(out, name, absl::StrFormat("%d", value));
}

// "----------Time to First Token----------" centered in 50 columns.
void Section(std::ostream& out, const std::string& title, char fill = '-') {
  const int width = 50;
  const int pad = std::max(0, width - static_cast<int>(title.size()));
  out << std::string(pad / 2, fill) << title << std::string(pad - pad / 2, fill) << "\n";
}

void Latency(std::ostream& out, const std::string& title, const std::string& name,
             const Summary& s) {
  Section(out, title);
  Row(out, "Mean " + name + " (ms):", s.mean);
  Row(out, "Std " + name + " (ms):", s.std);
  Row(out, "Median " + name + " (ms):", s.median);
  Row(out, "P90 " + name + " (ms):", s.p90);
  Row(out, "P99 " + name + " (ms):", s.p99);
}

}  // namespace

void PrintRunTable(const RunResult& run, int max_concurrency, std::ostream& out) {
  const BenchmarkMetrics& m = run.metrics;
  Section(out, " Serving Benchmark Result ", '=');
  Row(out, "Successful requests:", int64_t{m.completed});
  Row(out, "Failed requests:", int64_t{m.failed});
  for (const auto& [code, count] : m.failures_by_code) {
    Row(out, "  " + code + ":", int64_t{count});
  }
  Row(out, "Request rate configured (RPS):", RateName(run.request_rate));
  Row(out, "Maximum request concurrency:",
      max_concurrency > 0 ? absl::StrFormat("%d", max_concurrency) : "unbounded");
  Row(out, "Peak concurrent requests:", int64_t{m.max_concurrency_observed});
  Row(out, "Benchmark duration (s):", m.duration_s);
  Row(out, "Total input tokens:", m.total_input_tokens);
  Row(out, "Total generated tokens:", m.total_output_tokens);
  Row(out, "Total cached prompt tokens:", m.total_cached_prompt_tokens);
  if (m.total_input_tokens > 0) {
    Row(out, "Prefix cache hit rate (%):",
        100.0 * static_cast<double>(m.total_cached_prompt_tokens) / m.total_input_tokens);
  }
  Row(out, "Request throughput (req/s):", m.request_throughput);
  if (m.has_goodput) Row(out, "Request goodput (req/s):", m.goodput);
  Row(out, "Output token throughput (tok/s):", m.output_throughput);
  Row(out, "Peak output token throughput (tok/s):", m.peak_output_throughput);
  Row(out, "Total token throughput (tok/s):", m.total_token_throughput);
  Latency(out, "Time to First Token", "TTFT", m.ttft_ms);
  Latency(out, "Time per Output Token (excl. 1st token)", "TPOT", m.tpot_ms);
  Latency(out, "Inter-token Latency", "ITL", m.itl_ms);
  Latency(out, "End-to-end Latency", "E2EL", m.e2el_ms);
  if (!m.turns.empty()) {
    Section(out, "TTFT by Turn (ms)");
    out << absl::StrFormat("%-5s %9s %9s %9s %9s %9s %8s\n", "turn", "completed", "prompt", "mean",
                           "median", "p90", "cached%");
    for (const TurnMetrics& t : m.turns) {
      const double cached =
          t.input_tokens > 0 ? 100.0 * static_cast<double>(t.cached_prompt_tokens) / t.input_tokens
                             : 0;
      const double prompt = t.completed > 0 ? static_cast<double>(t.input_tokens) / t.completed : 0;
      out << absl::StrFormat("%-5d %9d %9.1f %9.2f %9.2f %9.2f %8.1f\n", t.turn + 1, t.completed,
                             prompt, t.ttft_ms.mean, t.ttft_ms.median, t.ttft_ms.p90, cached);
    }
  }
  Section(out, "", '=');
}

void PrintSweepTable(const BenchResult& result, std::ostream& out) {
  out << "Sweep (latencies in ms):\n";
  out << absl::StrFormat("%-8s %9s %6s %8s %10s %9s %9s %9s %9s\n", "rate", "completed", "failed",
                         "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99");
  for (const RunResult& run : result.runs) {
    const BenchmarkMetrics& m = run.metrics;
    out << absl::StrFormat("%-8s %9d %6d %8.2f %10.2f %9.2f %9.2f %9.2f %9.2f\n",
                           RateName(run.request_rate), m.completed, m.failed, m.request_throughput,
                           m.output_throughput, m.ttft_ms.median, m.ttft_ms.p99, m.tpot_ms.median,
                           m.tpot_ms.p99);
  }
}

}  // namespace gqa::loadgen
