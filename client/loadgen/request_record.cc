#include "client/loadgen/request_record.h"

namespace gqa::loadgen {

double TtftSeconds(const RequestRecord& r) { return r.message_times_s.front() - r.start_s; }

double E2eSeconds(const RequestRecord& r) {
  return (r.has_tokens() ? r.message_times_s.back() : r.end_s) - r.start_s;
}

double TpotSeconds(const RequestRecord& r) {
  if (r.output_len <= 1 || !r.has_tokens()) return 0;
  return (E2eSeconds(r) - TtftSeconds(r)) / (r.output_len - 1);
}

std::vector<double> ItlSeconds(const RequestRecord& r) {
  std::vector<double> itl;
  for (size_t k = 1; k < r.message_times_s.size(); ++k) {
    const int m = r.message_tokens[k];
    const double gap = r.message_times_s[k] - r.message_times_s[k - 1];
    for (int t = 0; t < m; ++t) itl.push_back(gap / m);
  }
  return itl;
}

}  // namespace gqa::loadgen
