// The scheduler over the prefix cache (11 blocks of 4 tokens unless said):
// hit lengths (full blocks only, the last token always computed), the plan a
// hit makes (a new request whose first chunk starts after its hit), counts,
// a preempted sequence re-hitting its own blocks, prompt logprobs taking no
// hits, output blocks cached like prompt blocks, and the cache turned off.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "engine/scheduler/scheduler.h"
#include "tests/support/token_ids.h"

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

class PrefixCacheSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeScheduler(/*num_blocks=*/11, /*enabled=*/true); }

  void MakeScheduler(int num_blocks, bool enabled, int budget = 100) {
    kv_ = std::make_unique<KvCacheManager>(num_blocks, /*block_size=*/4,
                                           PrefixCacheOptions{enabled, /*salt=*/5});
    SchedulerConfig c;
    c.max_num_batched_tokens = budget;
    c.max_num_seqs = 8;
    c.max_model_len = 64;
    c.eos_token_ids = {2};
    scheduler_ = std::make_unique<Scheduler>(c, kv_.get());
  }

  Sequence* Add(const std::string& id, std::vector<int32_t> prompt, int max_tokens = 8,
                bool prompt_logprobs = false, int priority = 0) {
    GenerationRequest r;
    r.request_id = id;
    r.prompt_token_ids = std::move(prompt);
    r.sampling.temperature = 0;
    r.stopping.max_tokens = max_tokens;
    r.prompt_logprobs = prompt_logprobs;
    r.priority = priority;
    seqs_.push_back(std::make_unique<Sequence>(r, arrival_++, 0));
    scheduler_->AddWaiting(seqs_.back().get());
    return seqs_.back().get();
  }

  // Runs Update as if every sampling sequence drew token 7.
  std::vector<Sequence*> Finish(const SchedulerOutput& b) {
    ModelOutput out;
    out.requests.resize(b.requests.size());
    for (auto& s : out.requests) s.sample.token_id = 7;
    return scheduler_->Update(b, out);
  }

  static const ScheduledRequest& Find(const SchedulerOutput& plan, const std::string& id) {
    for (const ScheduledRequest& r : plan.requests) {
      if (r.request_id == id) return r;
    }
    ADD_FAILURE() << id << " is not in the plan";
    return plan.requests.front();
  }

  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<std::unique_ptr<Sequence>> seqs_;
  int64_t arrival_ = 0;
};

TEST_F(PrefixCacheSchedulerTest, HitsAreFullBlocksAndLeaveTheLastPromptTokenToCompute) {
  const std::vector<int32_t> p = Tokens(100, 10);
  Add("a", p);
  SchedulerOutput s1 = scheduler_->Schedule();
  EXPECT_EQ(Find(s1, "a").start_position, 0);
  EXPECT_EQ(s1.num_prefix_cache_queries, 10);
  EXPECT_EQ(s1.num_prefix_cache_hits, 0);
  Finish(s1);  // a's blocks 0 and 1 are full and computed: cached

  Sequence* b = Add("b", p);               // 10 tokens: 2 blocks hit, 2 tokens computed
  Sequence* c = Add("c", Tokens(100, 8));  // exactly 2 blocks: the second is recomputed
  Sequence* d = Add("d", Concat(Tokens(100, 5), {900, 901, 902, 903}));  // differs in block 1
  Sequence* e = Add("e", Tokens(100, 3));                                // no full block
  Sequence* f = Add("f", Concat({7}, Tokens(101, 9)));                   // differs at token 0
  SchedulerOutput s2 = scheduler_->Schedule();
  ASSERT_EQ(s2.requests.size(), 6u);
  const ScheduledRequest& rb = Find(s2, "b");
  EXPECT_EQ(rb.start_position, 8);
  EXPECT_THAT(rb.token_ids, ElementsAre(108, 109));
  EXPECT_THAT(rb.block_table, ElementsAre(0, 1, 3));
  EXPECT_TRUE(rb.sample);
  const ScheduledRequest& rc = Find(s2, "c");
  EXPECT_EQ(rc.start_position, 4);
  EXPECT_THAT(rc.token_ids, ElementsAre(104, 105, 106, 107));
  EXPECT_THAT(rc.block_table, ElementsAre(0, 4));
  const ScheduledRequest& rd = Find(s2, "d");
  EXPECT_EQ(rd.start_position, 4);
  EXPECT_THAT(rd.block_table, ElementsAre(0, 5, 6));
  EXPECT_EQ(Find(s2, "e").start_position, 0);
  EXPECT_THAT(Find(s2, "e").block_table, ElementsAre(7));
  EXPECT_EQ(Find(s2, "f").start_position, 0);
  EXPECT_THAT(Find(s2, "f").block_table, ElementsAre(8, 9, 10));
  EXPECT_EQ(kv_->pool().ref_count(0), 4);  // a, b, c, d

  // Each is new to the runner with its whole prompt, though it starts later.
  ASSERT_EQ(s2.new_requests.size(), 5u);
  EXPECT_EQ(s2.new_requests[0].request_id, "b");
  EXPECT_THAT(s2.new_requests[0].prompt_token_ids, ElementsAreArray(p));
  EXPECT_EQ(b->num_cached_prompt_tokens, 8);
  EXPECT_EQ(c->num_cached_prompt_tokens, 4);
  EXPECT_EQ(d->num_cached_prompt_tokens, 4);
  EXPECT_EQ(e->num_cached_prompt_tokens, 0);
  EXPECT_EQ(f->num_cached_prompt_tokens, 0);
  EXPECT_EQ(s2.num_prefix_cache_queries, 10 + 8 + 9 + 3 + 10);
  EXPECT_EQ(s2.num_prefix_cache_hits, 8 + 4 + 4);
  EXPECT_EQ(scheduler_->prefix_cache_queries_tokens(), 50);
  EXPECT_EQ(scheduler_->prefix_cache_hits_tokens(), 16);
  Finish(s2);
  EXPECT_EQ(b->num_computed_tokens, 10);
  EXPECT_EQ(c->num_computed_tokens, 8);
}

TEST_F(PrefixCacheSchedulerTest, APreemptedSequenceHitsItsOwnFreedBlocks) {
  MakeScheduler(/*num_blocks=*/5, true);
  Add("a", Tokens(100, 8), /*max_tokens=*/2);
  Sequence* b = Add("b", Tokens(200, 8));
  SchedulerOutput s1 = scheduler_->Schedule();  // a: {0, 1}, b: {2, 3}
  EXPECT_THAT(b->block_table, ElementsAre(2, 3));
  Finish(s1);  // both cache their two blocks and hold 9 tokens
  // a takes the last block; b needs one too and is preempted: 3, then 2 freed.
  SchedulerOutput s2 = scheduler_->Schedule();
  ASSERT_EQ(s2.requests.size(), 1u);
  EXPECT_EQ(b->num_preemptions, 1);
  EXPECT_THAT(b->block_table, IsEmpty());
  EXPECT_THAT(kv_->pool().free_list(), ElementsAre(3, 2));
  Finish(s2);  // a finishes: 4 (partial), 1, 0 join the free list
  EXPECT_THAT(kv_->pool().free_list(), ElementsAre(3, 2, 4, 1, 0));

  // b (8 prompt tokens + 1 output) recomputes only its last token.
  SchedulerOutput s3 = scheduler_->Schedule();
  ASSERT_EQ(s3.requests.size(), 1u);
  EXPECT_EQ(s3.requests[0].start_position, 8);
  EXPECT_THAT(s3.requests[0].token_ids, ElementsAre(7));
  EXPECT_THAT(s3.requests[0].block_table, ElementsAre(2, 3, 4));
  EXPECT_TRUE(s3.requests[0].sample);
  EXPECT_THAT(s3.new_requests, IsEmpty());  // its sampler lives on
  // Counted at the first scheduling only.
  EXPECT_EQ(s3.num_prefix_cache_queries, 0);
  EXPECT_EQ(b->num_cached_prompt_tokens, 0);
  EXPECT_EQ(scheduler_->prefix_cache_queries_tokens(), 16);
  EXPECT_EQ(scheduler_->prefix_cache_hits_tokens(), 0);
}

TEST_F(PrefixCacheSchedulerTest, PromptLogprobsTakeNoHitsButFillTheCache) {
  const std::vector<int32_t> q = Tokens(300, 10);
  Sequence* a = Add("a", q, 8, /*prompt_logprobs=*/true);
  SchedulerOutput s1 = scheduler_->Schedule();
  EXPECT_EQ(s1.num_prefix_cache_queries, 0);  // not looked up: not counted (as vLLM)
  Finish(s1);                                 // its two full blocks are cached
  Sequence* b = Add("b", q, 8, /*prompt_logprobs=*/true);
  Sequence* c = Add("c", q);
  SchedulerOutput s2 = scheduler_->Schedule();
  const ScheduledRequest& rb = Find(s2, "b");
  EXPECT_EQ(rb.start_position, 0);
  EXPECT_EQ(rb.prompt_logprob_targets.size(), 9u);
  EXPECT_THAT(rb.block_table, ElementsAre(3, 4, 5));
  const ScheduledRequest& rc = Find(s2, "c");
  EXPECT_EQ(rc.start_position, 8);
  EXPECT_THAT(rc.block_table, ElementsAre(0, 1, 6));
  EXPECT_EQ(a->num_cached_prompt_tokens, 0);
  EXPECT_EQ(b->num_cached_prompt_tokens, 0);
  EXPECT_EQ(c->num_cached_prompt_tokens, 8);
  EXPECT_EQ(s2.num_prefix_cache_queries, 10);
  EXPECT_EQ(s2.num_prefix_cache_hits, 8);
}

// A request with prompt logprobs preempted mid-prompt recomputes its rows
// but scores each prompt token once: the targets of all its chunks are the
// prompt's tokens 1.., in order, without repeats.
TEST_F(PrefixCacheSchedulerTest, PromptLogprobsAreScoredOnceAcrossAPreemption) {
  MakeScheduler(/*num_blocks=*/4, true, /*budget=*/6);
  const std::vector<int32_t> p = Tokens(300, 12);
  Sequence* b = Add("b", Tokens(200, 4), /*max_tokens=*/4);
  Sequence* a = Add("a", p, 8, /*prompt_logprobs=*/true, /*priority=*/1);
  std::vector<int32_t> scored;
  std::vector<std::tuple<int, int, int>> chunks;  // a's (start, first scored row, targets)
  for (int step = 0; step < 6; ++step) {
    SchedulerOutput s = scheduler_->Schedule();
    for (const ScheduledRequest& r : s.requests) {
      if (r.request_id != "a") continue;
      chunks.emplace_back(r.start_position, r.prompt_logprob_row,
                          static_cast<int>(r.prompt_logprob_targets.size()));
      scored.insert(scored.end(), r.prompt_logprob_targets.begin(), r.prompt_logprob_targets.end());
    }
    Finish(s);
  }
  // 2 rows, 5 rows, preempted (step 3 runs b alone), rows 0-4 again unscored,
  // rows 5-10 of which 7-10 are new, then the last token.
  EXPECT_THAT(chunks, ElementsAre(std::tuple{0, 0, 2}, std::tuple{2, 0, 5}, std::tuple{0, 7, 0},
                                  std::tuple{5, 2, 4}, std::tuple{11, 0, 0}));
  EXPECT_EQ(a->num_preemptions, 1);
  EXPECT_EQ(b->status, SequenceStatus::kFinished);
  EXPECT_THAT(scored, ElementsAreArray(std::vector<int32_t>(p.begin() + 1, p.end())));
  EXPECT_TRUE(a->prompt_logprobs_done());
}

TEST_F(PrefixCacheSchedulerTest, OutputBlocksAreCachedLikePromptBlocks) {
  Add("a", Tokens(100, 6));
  Finish(scheduler_->Schedule());  // 6 computed: block 0 cached; token 7 appended
  Finish(scheduler_->Schedule());  // 7 computed
  Finish(scheduler_->Schedule());  // 8 computed: block 1 = 104 105 7 7 cached
  Sequence* b = Add("b", Concat(Tokens(100, 6), {7, 7, 50}));
  SchedulerOutput s = scheduler_->Schedule();
  EXPECT_EQ(Find(s, "b").start_position, 8);
  EXPECT_THAT(Find(s, "b").block_table, ElementsAre(0, 1, 3));
  EXPECT_EQ(b->num_cached_prompt_tokens, 8);
}

TEST_F(PrefixCacheSchedulerTest, TurnedOffItNeverHitsNorCounts) {
  MakeScheduler(11, /*enabled=*/false);
  const std::vector<int32_t> p = Tokens(100, 10);
  Add("a", p);
  Finish(scheduler_->Schedule());
  Sequence* b = Add("b", p);
  SchedulerOutput s = scheduler_->Schedule();
  EXPECT_EQ(Find(s, "b").start_position, 0);
  EXPECT_THAT(Find(s, "b").block_table, ElementsAre(3, 4, 5));
  EXPECT_EQ(b->num_cached_prompt_tokens, 0);
  EXPECT_EQ(scheduler_->prefix_cache_queries_tokens(), 0);
  EXPECT_EQ(kv_->pool().num_blocks_cached(), 0);
}

}  // namespace
}  // namespace gqa
