// Arrival times, length distributions and the workload built from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <string>

#include "client/loadgen/arrivals.h"
#include "client/loadgen/length_distribution.h"
#include "client/loadgen/workload.h"

namespace gqa::loadgen {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Mean and coefficient of variation of the gaps between arrivals.
void GapStats(const std::vector<double>& t, double* mean, double* cv) {
  std::vector<double> gaps;
  for (size_t i = 1; i < t.size(); ++i) gaps.push_back(t[i] - t[i - 1]);
  *mean = std::accumulate(gaps.begin(), gaps.end(), 0.0) / gaps.size();
  double sq = 0;
  for (double g : gaps) sq += (g - *mean) * (g - *mean);
  *cv = std::sqrt(sq / gaps.size()) / *mean;
}

TEST(ArrivalsTest, InfiniteRateSendsEverythingAtOnce) {
  EXPECT_EQ(ArrivalTimes(5, kInf, 1, 0), std::vector<double>(5, 0.0));
  EXPECT_TRUE(ArrivalTimes(0, 2, 1, 0).empty());
}

TEST(ArrivalsTest, PoissonStartsAtZeroIsMonotoneAndHasMeanGapOneOverRate) {
  const std::vector<double> t = ArrivalTimes(100000, 4.0, 1.0, 42);
  ASSERT_EQ(t.size(), 100000u);
  EXPECT_EQ(t[0], 0);
  EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  double mean, cv;
  GapStats(t, &mean, &cv);
  // Standard error of the mean gap: 0.25 / sqrt(1e5) = 0.3%; 3% is 10 of them.
  EXPECT_NEAR(mean, 0.25, 0.25 * 0.03);
  EXPECT_NEAR(cv, 1.0, 0.05);  // exponential gaps: std = mean
}

TEST(ArrivalsTest, GammaShapeSetsBurstinessButNotTheMean) {
  for (double k : {0.25, 4.0}) {
    double mean, cv;
    GapStats(ArrivalTimes(100000, 10.0, k, 7), &mean, &cv);
    EXPECT_NEAR(mean, 0.1, 0.1 * 0.03) << "k " << k;
    EXPECT_NEAR(cv, 1 / std::sqrt(k), 0.1 / std::sqrt(k)) << "k " << k;  // Gamma: CV = 1/sqrt(k)
  }
}

TEST(ArrivalsTest, SeededAndReproducible) {
  EXPECT_EQ(ArrivalTimes(50, 3, 1, 9), ArrivalTimes(50, 3, 1, 9));
  EXPECT_NE(ArrivalTimes(50, 3, 1, 9), ArrivalTimes(50, 3, 1, 10));
}

TEST(ArrivalsTest, ParsesRates) {
  EXPECT_EQ(*ParseRequestRate("r", "inf"), kInf);
  EXPECT_EQ(*ParseRequestRate("r", "2.5"), 2.5);
  EXPECT_THAT(ParseRequestRate("request-rate", "0").status().message(),
              HasSubstr("--request-rate: '0'"));
  EXPECT_FALSE(ParseRequestRate("r", "fast").ok());
  EXPECT_FALSE(ParseRequestRate("r", "-1").ok());
  absl::StatusOr<std::vector<double>> rates = ParseRequestRates("r", "1, 2,inf");
  ASSERT_TRUE(rates.ok()) << rates.status();
  EXPECT_EQ(*rates, (std::vector<double>{1, 2, kInf}));
  EXPECT_FALSE(ParseRequestRates("r", "").ok());
  EXPECT_FALSE(ParseRequestRates("r", "1,x").ok());
  EXPECT_EQ(RateName(kInf), "inf");
  EXPECT_EQ(RateName(2.5), "2.5");
}

TEST(LengthDistributionTest, FixedIsExact) {
  std::mt19937_64 rng(1);
  const LengthSpec spec{LengthDist::kFixed, 37};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(SampleLength(spec, rng), 37);
}

TEST(LengthDistributionTest, UniformStaysInItsBoundsAndReachesBoth) {
  std::mt19937_64 rng(2);
  const LengthSpec spec{LengthDist::kUniform, 100, 0.5};
  int lo = 1 << 30, hi = 0;
  for (int i = 0; i < 10000; ++i) {
    const int n = SampleLength(spec, rng);
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  EXPECT_EQ(lo, 50);
  EXPECT_EQ(hi, 150);
  const LengthSpec narrow{LengthDist::kUniform, 3, 0.9};  // [0, 5] -> [1, 5]
  for (int i = 0; i < 1000; ++i) {
    const int n = SampleLength(narrow, rng);
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 5);
  }
}

TEST(LengthDistributionTest, ShareGptHasTheGivenMeanAndARightSkew) {
  std::mt19937_64 rng(3);
  const LengthSpec spec{LengthDist::kShareGpt, 200, 0, kShareGptInputSigma};
  std::vector<int> v(100000);
  for (int& n : v) n = SampleLength(spec, rng);
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  EXPECT_NEAR(mean, 200, 200 * 0.03);  // standard error ~0.4%
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  EXPECT_LT(v[v.size() / 2], 0.7 * 200);  // median ~0.61 x mean
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 1);
}

TEST(LengthDistributionTest, ClipsToTheContext) {
  int in = 600, out = 100;
  ClipToContext(512, &in, &out);
  EXPECT_EQ(in, 511);
  EXPECT_EQ(out, 1);
  in = 400, out = 200;
  ClipToContext(512, &in, &out);
  EXPECT_EQ(in, 400);
  EXPECT_EQ(out, 112);
  in = 0, out = 0;
  ClipToContext(512, &in, &out);
  EXPECT_EQ(in, 1);
  EXPECT_EQ(out, 1);
  in = 10, out = 20;
  ClipToContext(512, &in, &out);
  EXPECT_EQ(in, 10);
  EXPECT_EQ(out, 20);
}

TEST(LengthDistributionTest, ParsesAndValidates) {
  EXPECT_EQ(*ParseLengthDist("d", "sharegpt"), LengthDist::kShareGpt);
  EXPECT_THAT(ParseLengthDist("input-len-dist", "zipf").status().message(),
              HasSubstr("--input-len-dist: 'zipf'"));
  EXPECT_TRUE(ValidateLengthSpec("input-len", LengthSpec{}).ok());
  EXPECT_THAT(ValidateLengthSpec("input-len", LengthSpec{LengthDist::kFixed, 0}).message(),
              HasSubstr("--input-len must be >= 1"));
  EXPECT_FALSE(ValidateLengthSpec("x", LengthSpec{LengthDist::kUniform, 5, 1.0}).ok());
}

v1::ModelInfo SmallModel() {
  v1::ModelInfo info;
  info.set_vocab_size(10);
  info.set_context_length(64);
  info.set_kv_cache_tokens(1024);
  info.add_eos_token_ids(2);
  info.set_bos_token_id(1);
  return info;
}

TEST(WorkloadTest, RandomPromptsAvoidSpecialIdsAndHaveExactLengths) {
  WorkloadOptions o;
  o.num_prompts = 20;
  o.input = {LengthDist::kFixed, 30};
  o.output = {LengthDist::kFixed, 50};  // 30 + 50 > 64: output clipped to 34
  o.seed = 5;
  absl::StatusOr<std::vector<WorkItem>> items = BuildRandomWorkload(o, SmallModel());
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 20u);
  for (const WorkItem& w : *items) {
    EXPECT_EQ(w.input_len, 30);
    EXPECT_EQ(w.output_len, 34);
    ASSERT_EQ(w.request.prompt_token_ids().ids_size(), 30);
    for (int id : w.request.prompt_token_ids().ids()) {
      EXPECT_TRUE(id >= 0 && id < 10 && id != 1 && id != 2) << id;
    }
    EXPECT_EQ(w.request.stopping().max_tokens(), 34);
    EXPECT_TRUE(w.request.stopping().ignore_eos());
    EXPECT_TRUE(w.request.sampling().has_temperature());
    EXPECT_EQ(w.request.sampling().temperature(), 0);
    EXPECT_FALSE(w.request.sampling().has_seed());  // greedy needs none
  }
  absl::StatusOr<std::vector<WorkItem>> again = BuildRandomWorkload(o, SmallModel());
  for (size_t i = 0; i < items->size(); ++i) {
    EXPECT_EQ((*items)[i].request.SerializeAsString(), (*again)[i].request.SerializeAsString());
  }
}

TEST(WorkloadTest, KvCapacityBelowTheContextLimitsLengths) {
  v1::ModelInfo info = SmallModel();
  info.set_kv_cache_tokens(16);
  EXPECT_EQ(MaxTotalLen(info), 16);
  WorkloadOptions o;
  o.num_prompts = 1;
  o.input = {LengthDist::kFixed, 100};
  o.temperature = 0.5f;
  o.ignore_eos = false;
  absl::StatusOr<std::vector<WorkItem>> items = BuildRandomWorkload(o, info);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ((*items)[0].input_len, 15);
  EXPECT_EQ((*items)[0].output_len, 1);
  EXPECT_TRUE((*items)[0].request.sampling().has_seed());
  EXPECT_FALSE((*items)[0].request.stopping().ignore_eos());
  info.set_context_length(1);
  EXPECT_EQ(BuildRandomWorkload(o, info).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(WorkloadTest, DatasetEntriesAreCycledInFileOrder) {
  std::vector<DatasetEntry> entries(2);
  entries[0].prompt = "hello";
  entries[0].output_len = 3;
  entries[0].line = 1;
  entries[1].prompt_token_ids = {4, 5, 6};
  entries[1].line = 2;  // no output_len: --output-len
  WorkloadOptions o;
  o.num_prompts = 5;
  o.output = {LengthDist::kFixed, 7};
  absl::StatusOr<std::vector<WorkItem>> items =
      BuildDatasetWorkload(o, entries, "d.jsonl", SmallModel());
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 5u);
  EXPECT_EQ((*items)[0].request.prompt(), "hello");
  EXPECT_EQ((*items)[0].input_len, 0);  // the server reports it
  EXPECT_EQ((*items)[0].output_len, 3);
  EXPECT_EQ((*items)[1].input_len, 3);
  EXPECT_EQ((*items)[1].output_len, 7);
  EXPECT_EQ((*items)[1].request.prompt_token_ids().ids(2), 6);
  EXPECT_EQ((*items)[4].request.prompt(), "hello");
  EXPECT_EQ((*items)[3].request.request_id(), "bench-3");
}

TEST(WorkloadTest, DatasetErrorsNameTheLine) {
  std::vector<DatasetEntry> entries(1);
  entries[0].prompt_token_ids = {4, 10};
  entries[0].line = 3;
  WorkloadOptions o;
  EXPECT_THAT(BuildDatasetWorkload(o, entries, "d.jsonl", SmallModel()).status().message(),
              HasSubstr("d.jsonl:3: token id 10 is not below the model's vocab_size 10"));
  entries[0].prompt_token_ids.assign(64, 4);
  EXPECT_THAT(BuildDatasetWorkload(o, entries, "d.jsonl", SmallModel()).status().message(),
              HasSubstr("d.jsonl:3: the prompt has 64 tokens"));
}

TEST(WorkloadTest, AssignsArrivals) {
  std::vector<WorkItem> items(3);
  AssignArrivals({0, 0.5, 2}, &items);
  EXPECT_EQ(items[2].arrival_s, 2);
}

std::vector<int32_t> Ids(const WorkItem& w) {
  return {w.request.prompt_token_ids().ids().begin(), w.request.prompt_token_ids().ids().end()};
}

// A model with room for long prompts and enough ids that random prompts differ.
v1::ModelInfo WideModel() {
  v1::ModelInfo info = SmallModel();
  info.set_vocab_size(1000);
  info.set_context_length(4096);
  return info;
}

TEST(WorkloadTest, SharedPrefixIsTheSameNIdsThenEachPromptsOwnPart) {
  WorkloadOptions o;
  o.num_prompts = 8;
  o.input = {LengthDist::kFixed, 12};
  o.output = {LengthDist::kFixed, 4};
  o.seed = 3;
  absl::StatusOr<std::vector<WorkItem>> plain = BuildRandomWorkload(o, WideModel());
  o.shared_prefix_len = 40;
  absl::StatusOr<std::vector<WorkItem>> shared = BuildRandomWorkload(o, WideModel());
  ASSERT_TRUE(plain.ok() && shared.ok()) << shared.status();
  ASSERT_EQ(shared->size(), 8u);
  const std::vector<int32_t> first = Ids((*shared)[0]);
  ASSERT_EQ(first.size(), 52u);
  const std::vector<int32_t> prefix(first.begin(), first.begin() + 40);
  std::set<int32_t> distinct_first_unique_ids;
  for (size_t i = 0; i < shared->size(); ++i) {
    const WorkItem& w = (*shared)[i];
    const std::vector<int32_t> ids = Ids(w);
    EXPECT_EQ(w.input_len, 52);
    EXPECT_EQ(w.output_len, 4);
    EXPECT_EQ(w.previous_turn, -1);
    ASSERT_EQ(ids.size(), 52u);
    EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + 40), prefix) << i;
    // The prefix has its own random stream: the rest is the prompt the same
    // seed makes without a prefix.
    EXPECT_EQ(std::vector<int32_t>(ids.begin() + 40, ids.end()), Ids((*plain)[i])) << i;
    distinct_first_unique_ids.insert(ids[40]);
    for (int32_t id : ids) EXPECT_TRUE(id >= 0 && id < 1000 && id != 1 && id != 2) << id;
  }
  // Exactly N leading ids are shared: the 41st is not the same everywhere.
  EXPECT_GT(distinct_first_unique_ids.size(), 1u);

  // Another seed, another prefix; the prefix leaves room for the rest only.
  o.seed = 4;
  absl::StatusOr<std::vector<WorkItem>> other = BuildRandomWorkload(o, WideModel());
  ASSERT_TRUE(other.ok());
  const std::vector<int32_t> other_first = Ids((*other)[0]);
  EXPECT_NE(std::vector<int32_t>(other_first.begin(), other_first.begin() + 40), prefix);
  v1::ModelInfo small = SmallModel();  // 64 tokens: 40 + 12 + 4 fits; 62 + 1 + 1 is the most
  o.shared_prefix_len = 60;
  absl::StatusOr<std::vector<WorkItem>> clipped = BuildRandomWorkload(o, small);
  ASSERT_TRUE(clipped.ok());
  EXPECT_EQ((*clipped)[0].input_len, 63);
  EXPECT_EQ((*clipped)[0].output_len, 1);
  o.shared_prefix_len = 63;
  EXPECT_THAT(BuildRandomWorkload(o, small).status().message(),
              HasSubstr("no room for a shared prefix of 63 tokens"));
}

TEST(WorkloadTest, ChatTurnsCarryOnlyTheirNewPartAndChainToThePreviousTurn) {
  WorkloadOptions o;
  o.num_prompts = 3;  // conversations
  o.turns = 4;
  o.shared_prefix_len = 10;
  o.input = {LengthDist::kFixed, 6};
  o.output = {LengthDist::kFixed, 5};
  o.seed = 11;
  absl::StatusOr<std::vector<WorkItem>> items = BuildRandomWorkload(o, WideModel());
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 12u);
  EXPECT_EQ(NumArrivals(*items), 3);
  for (int c = 0; c < 3; ++c) {
    for (int k = 0; k < 4; ++k) {
      const WorkItem& w = (*items)[c * 4 + k];
      EXPECT_EQ(w.conversation, c);
      EXPECT_EQ(w.turn, k);
      EXPECT_EQ(w.previous_turn, k == 0 ? -1 : c * 4 + k - 1);
      EXPECT_EQ(w.request.request_id(), "bench-" + std::to_string(c * 4 + k));
      EXPECT_EQ(w.output_len, 5);
      EXPECT_EQ(w.request.stopping().max_tokens(), 5);
      // The full prompt: prefix + k earlier turns of (6 + 5) + its own 6.
      EXPECT_EQ(w.input_len, 10 + k * 11 + 6);
      EXPECT_EQ(w.request.prompt_token_ids().ids_size(), k == 0 ? 16 : 6);
    }
    EXPECT_EQ(Ids((*items)[c * 4]).at(9), Ids((*items)[0]).at(9));  // the shared prefix
  }
  // Arrivals go to the conversations' first turns only.
  AssignArrivals({0.5, 1, 2}, &*items);
  EXPECT_EQ((*items)[0].arrival_s, 0.5);
  EXPECT_EQ((*items)[1].arrival_s, 0);
  EXPECT_EQ((*items)[4].arrival_s, 1);
  EXPECT_EQ((*items)[8].arrival_s, 2);

  // A conversation must fit the context whole: 10 + 4 * 11 = 54 <= 64, 65 > 64.
  EXPECT_TRUE(BuildRandomWorkload(o, SmallModel()).ok());
  o.turns = 5;
  EXPECT_THAT(BuildRandomWorkload(o, SmallModel()).status().message(),
              HasSubstr("conversation 0 needs 65 tokens by turn 5 of 5; the server fits 64"));
}

}  // namespace
}  // namespace gqa::loadgen
