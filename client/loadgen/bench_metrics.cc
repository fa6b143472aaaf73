#include "client/loadgen/bench_metrics.h"

#include <algorithm>
#include <cmath>

namespace gqa::loadgen {
namespace {

constexpr double kMs = 1e3;

bool MeetsSlo(const RequestRecord& r, const SloConfig& slo) {
  if (!r.has_tokens()) return false;
  if (slo.ttft_ms > 0 && TtftSeconds(r) * kMs > slo.ttft_ms) return false;
  if (slo.tpot_ms > 0 && TpotSeconds(r) * kMs > slo.tpot_ms) return false;
  if (slo.e2el_ms > 0 && E2eSeconds(r) * kMs > slo.e2el_ms) return false;
  return true;
}

std::vector<double> TokensPerSecond(const std::vector<RequestRecord>& records, double duration_s) {
  const size_t buckets = std::max<size_t>(1, static_cast<size_t>(std::ceil(duration_s)));
  std::vector<double> out(buckets, 0.0);
  for (const RequestRecord& r : records) {
    for (size_t k = 0; k < r.message_times_s.size(); ++k) {
      const double t = std::max(0.0, r.message_times_s[k]);
      const size_t b = std::min(buckets - 1, static_cast<size_t>(t));
      out[b] += r.message_tokens[k];
    }
  }
  return out;
}

}  // namespace

BenchmarkMetrics ComputeMetrics(const std::vector<RequestRecord>& records, double duration_s,
                                int max_concurrency_observed, const SloConfig& slo) {
  BenchmarkMetrics m;
  m.num_requests = static_cast<int>(records.size());
  m.max_concurrency_observed = max_concurrency_observed;
  if (duration_s <= 0) {
    for (const RequestRecord& r : records) duration_s = std::max(duration_s, r.end_s);
  }
  m.duration_s = duration_s;
  std::vector<double> ttft, tpot, itl, e2el;
  std::vector<std::vector<double>> ttft_by_turn;
  for (const RequestRecord& r : records) {
    if (r.conversation >= 0 && r.turn >= static_cast<int>(m.turns.size())) {
      const int first_new = static_cast<int>(m.turns.size());
      m.turns.resize(r.turn + 1);
      ttft_by_turn.resize(r.turn + 1);
      for (int k = first_new; k <= r.turn; ++k) m.turns[k].turn = k;
    }
    if (!r.ok()) {
      ++m.failed;
      ++m.failures_by_code[r.status_name];
      continue;
    }
    ++m.completed;
    m.total_input_tokens += r.input_len;
    m.total_output_tokens += r.output_len;
    m.total_cached_prompt_tokens += r.cached_prompt_tokens;
    TurnMetrics* turn = r.conversation >= 0 ? &m.turns[r.turn] : nullptr;
    if (turn != nullptr) {
      ++turn->completed;
      turn->input_tokens += r.input_len;
      turn->cached_prompt_tokens += r.cached_prompt_tokens;
    }
    e2el.push_back(E2eSeconds(r) * kMs);
    if (!r.has_tokens()) continue;
    ttft.push_back(TtftSeconds(r) * kMs);
    if (turn != nullptr) ttft_by_turn[r.turn].push_back(TtftSeconds(r) * kMs);
    if (r.output_len > 1) tpot.push_back(TpotSeconds(r) * kMs);
    for (double gap : ItlSeconds(r)) itl.push_back(gap * kMs);
    if (slo.any() && MeetsSlo(r, slo)) ++m.good_requests;
  }
  if (duration_s > 0) {
    m.request_throughput = m.completed / duration_s;
    m.input_throughput = static_cast<double>(m.total_input_tokens) / duration_s;
    m.output_throughput = static_cast<double>(m.total_output_tokens) / duration_s;
    m.total_token_throughput = m.input_throughput + m.output_throughput;
  }
  m.has_goodput = slo.any();
  if (m.has_goodput && duration_s > 0) m.goodput = m.good_requests / duration_s;
  m.ttft_ms = Summarize(std::move(ttft));
  m.tpot_ms = Summarize(std::move(tpot));
  m.itl_ms = Summarize(std::move(itl));
  m.e2el_ms = Summarize(std::move(e2el));
  for (size_t k = 0; k < m.turns.size(); ++k) m.turns[k].ttft_ms = Summarize(ttft_by_turn[k]);
  m.output_tokens_per_s = TokensPerSecond(records, duration_s);
  for (double v : m.output_tokens_per_s) {
    m.peak_output_throughput = std::max(m.peak_output_throughput, v);
  }
  return m;
}

}  // namespace gqa::loadgen
