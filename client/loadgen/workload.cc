#include "client/loadgen/workload.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace gqa::loadgen {
namespace {

// Fills the sampling and stopping fields every benchmark request shares.
void SetParams(const WorkloadOptions& o, int index, int output_len, v1::GenerateRequest* r) {
  r->set_request_id(absl::StrCat("bench-", index));
  r->mutable_sampling()->set_temperature(o.temperature);
  // A per-request seed keeps sampled outputs reproducible too (greedy needs none).
  if (o.temperature > 0) r->mutable_sampling()->set_seed(o.seed + static_cast<uint64_t>(index));
  r->mutable_stopping()->set_max_tokens(output_len);
  r->mutable_stopping()->set_ignore_eos(o.ignore_eos);
}

}  // namespace

int MaxTotalLen(const v1::ModelInfo& info) {
  int64_t max_len = info.context_length();
  if (info.kv_cache_tokens() > 0) max_len = std::min<int64_t>(max_len, info.kv_cache_tokens());
  return static_cast<int>(max_len);
}

absl::StatusOr<std::vector<WorkItem>> BuildRandomWorkload(const WorkloadOptions& options,
                                                          const v1::ModelInfo& info) {
  const int max_total = MaxTotalLen(info);
  if (max_total < 2) {
    return absl::FailedPreconditionError(absl::StrCat("the server's context holds ", max_total,
                                                      " tokens: no room for a prompt and output"));
  }
  absl::flat_hash_set<int> special(info.eos_token_ids().begin(), info.eos_token_ids().end());
  special.insert(info.bos_token_id());
  std::vector<int32_t> usable;  // ids a random prompt may contain
  for (int id = 0; id < info.vocab_size(); ++id) {
    if (!special.contains(id)) usable.push_back(id);
  }
  if (usable.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the model's vocabulary (", info.vocab_size(),
                                                      " ids) has no non-special token"));
  }
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<size_t> pick(0, usable.size() - 1);
  std::vector<WorkItem> items(options.num_prompts);
  for (int i = 0; i < options.num_prompts; ++i) {
    WorkItem& w = items[i];
    w.input_len = SampleLength(options.input, rng);
    w.output_len = SampleLength(options.output, rng);
    ClipToContext(max_total, &w.input_len, &w.output_len);
    auto* ids = w.request.mutable_prompt_token_ids()->mutable_ids();
    ids->Reserve(w.input_len);
    for (int t = 0; t < w.input_len; ++t) ids->Add(usable[pick(rng)]);
    SetParams(options, i, w.output_len, &w.request);
  }
  return items;
}

absl::StatusOr<std::vector<WorkItem>> BuildDatasetWorkload(const WorkloadOptions& options,
                                                           const std::vector<DatasetEntry>& entries,
                                                           const std::string& source,
                                                           const v1::ModelInfo& info) {
  if (entries.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no prompts"));
  const int max_total = MaxTotalLen(info);
  // Check every entry once, even those a short run does not reach.
  for (const DatasetEntry& e : entries) {
    for (int32_t id : e.prompt_token_ids) {
      if (id >= info.vocab_size()) {
        return absl::InvalidArgumentError(absl::StrCat(source, ":", e.line, ": token id ", id,
                                                       " is not below the model's vocab_size ",
                                                       info.vocab_size()));
      }
    }
    if (e.has_token_ids() && static_cast<int>(e.prompt_token_ids.size()) > max_total - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", e.line, ": the prompt has ", e.prompt_token_ids.size(),
                       " tokens; the server fits ", max_total, " tokens of prompt + output"));
    }
  }
  std::mt19937_64 rng(options.seed);
  std::vector<WorkItem> items(options.num_prompts);
  for (int i = 0; i < options.num_prompts; ++i) {
    const DatasetEntry& e = entries[i % entries.size()];
    WorkItem& w = items[i];
    w.output_len = e.output_len > 0 ? e.output_len : SampleLength(options.output, rng);
    if (e.has_token_ids()) {
      w.input_len = static_cast<int>(e.prompt_token_ids.size());
      ClipToContext(max_total, &w.input_len, &w.output_len);
      w.request.mutable_prompt_token_ids()->mutable_ids()->Add(e.prompt_token_ids.begin(),
                                                               e.prompt_token_ids.end());
    } else {
      w.request.set_prompt(e.prompt);
    }
    SetParams(options, i, w.output_len, &w.request);
  }
  return items;
}

void AssignArrivals(const std::vector<double>& times, std::vector<WorkItem>* items) {
  for (size_t i = 0; i < items->size() && i < times.size(); ++i) (*items)[i].arrival_s = times[i];
}

}  // namespace gqa::loadgen
