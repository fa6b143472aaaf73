#include "client/loadgen/workload.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace gqa::loadgen {
namespace {

// The shared prefix's random stream: seed ^ this.
constexpr uint64_t kPrefixStream = 0xC2B2AE3D27D4EB4Full;

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
  const int prefix_len = options.shared_prefix_len;
  if (max_total - prefix_len < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the server's context holds ", max_total, " tokens: no room for ",
        prefix_len > 0 ? absl::StrCat("a shared prefix of ", prefix_len, " tokens, ") : "",
        "a prompt and output"));
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
  std::uniform_int_distribution<size_t> pick(0, usable.size() - 1);
  // The prefix has its own stream: without one, prompts and lengths are
  // those of the same seed without --shared-prefix-len.
  std::vector<int32_t> prefix(prefix_len);
  std::mt19937_64 prefix_rng(options.seed ^ kPrefixStream);
  for (int32_t& id : prefix) id = usable[pick(prefix_rng)];

  std::mt19937_64 rng(options.seed);
  const int turns = std::max(1, options.turns);
  std::vector<WorkItem> items(static_cast<size_t>(options.num_prompts) * turns);
  for (int c = 0; c < options.num_prompts; ++c) {
    int context = prefix_len;  // the conversation's tokens so far
    for (int k = 0; k < turns; ++k) {
      const int i = c * turns + k;
      WorkItem& w = items[i];
      int part_len = SampleLength(options.input, rng);
      w.output_len = SampleLength(options.output, rng);
      if (turns == 1) {
        ClipToContext(max_total - prefix_len, &part_len, &w.output_len);
      } else if (context + part_len + w.output_len > max_total) {
        return absl::FailedPreconditionError(absl::StrCat(
            "conversation ", c, " needs ", context + part_len + w.output_len, " tokens by turn ",
            k + 1, " of ", turns, "; the server fits ", max_total,
            ": fewer --turns or shorter --input-len / --output-len / --shared-prefix-len"));
      }
      auto* ids = w.request.mutable_prompt_token_ids()->mutable_ids();
      if (k == 0) {
        ids->Reserve(prefix_len + part_len);
        ids->Add(prefix.begin(), prefix.end());
      }
      for (int t = 0; t < part_len; ++t) ids->Add(usable[pick(rng)]);
      w.input_len = context + part_len;
      if (turns > 1) {
        w.conversation = c;
        w.turn = k;
        w.previous_turn = k == 0 ? -1 : i - 1;
        context += part_len + w.output_len;
      }
      SetParams(options, i, w.output_len, &w.request);
    }
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

int NumArrivals(const std::vector<WorkItem>& items) {
  return static_cast<int>(std::count_if(items.begin(), items.end(),
                                        [](const WorkItem& w) { return w.previous_turn < 0; }));
}

void AssignArrivals(const std::vector<double>& times, std::vector<WorkItem>* items) {
  size_t next = 0;
  for (WorkItem& w : *items) {
    if (w.previous_turn >= 0) continue;
    if (next >= times.size()) break;
    w.arrival_s = times[next++];
  }
}

}  // namespace gqa::loadgen
