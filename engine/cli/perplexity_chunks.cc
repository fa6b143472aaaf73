#include "engine/cli/perplexity_chunks.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace gqa {

absl::StatusOr<std::vector<PerplexityChunk>> PlanPerplexityChunks(
    const std::vector<int32_t>& tokens, const PerplexityPlanOptions& o) {
  if (o.context < 4) return absl::InvalidArgumentError("--context must be >= 4");
  if (o.stride < 0 || o.stride >= o.context) {
    return absl::InvalidArgumentError(
        absl::StrCat("--stride must be in [0, --context) = [0, ", o.context, ")"));
  }
  if (o.max_chunks < 0) return absl::InvalidArgumentError("--chunks must be >= 0");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 2 * int64_t{o.context}) {
    return absl::InvalidArgumentError(absl::StrCat("the text has ", n, " tokens; --context ",
                                                   o.context, " needs at least ",
                                                   2 * int64_t{o.context}, " (two chunks)"));
  }
  int64_t num_chunks = o.stride == 0 ? n / o.context : (n - o.context + o.stride - 1) / o.stride;
  if (o.max_chunks > 0) num_chunks = std::min<int64_t>(num_chunks, o.max_chunks);
  std::vector<PerplexityChunk> chunks(num_chunks);
  for (int64_t i = 0; i < num_chunks; ++i) {
    PerplexityChunk& c = chunks[i];
    c.offset = i * (o.stride == 0 ? o.context : o.stride);
    c.tokens.assign(tokens.begin() + c.offset, tokens.begin() + c.offset + o.context);
    if (o.stride == 0) {
      if (o.bos_id >= 0) c.tokens[0] = o.bos_id;
      c.first_scored = o.context / 2 + 1;
    } else {
      c.first_scored = o.context - o.stride;
    }
  }
  return chunks;
}

double PerplexityStats::Perplexity() const { return count ? std::exp(MeanNll()) : 0; }

double PerplexityStats::PerplexityError() const {
  if (count < 2) return 0;
  const double mean = MeanNll();
  const double var = nll2 / count - mean * mean;
  return var > 0 ? Perplexity() * std::sqrt(var / (count - 1)) : 0;
}

}  // namespace gqa
