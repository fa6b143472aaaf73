#include "engine/scheduler/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

namespace gqa {
namespace {

using ::testing::ElementsAre;

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeScheduler(/*num_blocks=*/11, /*block_size=*/4, 100, 4); }

  void MakeScheduler(int num_blocks, int block_size, int budget, int max_seqs) {
    kv_ = std::make_unique<KvCacheManager>(num_blocks, block_size);
    SchedulerConfig c;
    c.max_num_batched_tokens = budget;
    c.max_num_seqs = max_seqs;
    c.max_model_len = 64;
    c.eos_token_ids = {2};
    scheduler_ = std::make_unique<Scheduler>(c, kv_.get());
  }

  Sequence* Add(const std::string& id, int prompt_len, int max_tokens = 8, int priority = 0) {
    GenerationRequest r;
    r.request_id = id;
    r.prompt_token_ids.assign(prompt_len, 5);
    r.sampling.temperature = 0;
    r.stopping.max_tokens = max_tokens;
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

  // (request id, tokens, samples) of each scheduled sequence.
  static std::vector<std::tuple<std::string, int, bool>> Describe(const SchedulerOutput& b) {
    std::vector<std::tuple<std::string, int, bool>> d;
    for (const auto& s : b.requests) d.emplace_back(s.request_id, s.num_new_tokens(), s.sample);
    return d;
  }

  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<std::unique_ptr<Sequence>> seqs_;
  int64_t arrival_ = 0;
};

using Row = std::tuple<std::string, int, bool>;

TEST_F(SchedulerTest, ChunksPromptsUnderTheTokenBudgetAndMixesThemWithDecodes) {
  MakeScheduler(11, 4, /*budget=*/10, 4);
  Sequence* a = Add("a", 8);
  Sequence* b = Add("b", 6);
  SchedulerOutput s1 = scheduler_->Schedule();
  EXPECT_THAT(Describe(s1), ElementsAre(Row{"a", 8, true}, Row{"b", 2, false}));
  EXPECT_EQ(s1.num_tokens, 10);
  EXPECT_THAT(a->block_table, ElementsAre(0, 1));
  EXPECT_THAT(b->block_table, ElementsAre(2));
  Finish(s1);
  EXPECT_EQ(a->num_tokens(), 9);
  EXPECT_EQ(b->num_computed_tokens, 2);

  SchedulerOutput s2 = scheduler_->Schedule();  // a decodes, b finishes its prompt
  EXPECT_THAT(Describe(s2), ElementsAre(Row{"a", 1, true}, Row{"b", 4, true}));
  EXPECT_THAT(a->block_table, ElementsAre(0, 1, 3));
  EXPECT_THAT(b->block_table, ElementsAre(2, 4));
}

TEST_F(SchedulerTest, CapsRunningSequencesAndAdmitsInPriorityThenArrivalOrder) {
  MakeScheduler(11, 4, 100, /*max_seqs=*/2);
  Add("late-low", 3, 8, /*priority=*/5);
  Add("first", 3);
  Add("second", 3);
  Add("urgent", 3, 8, /*priority=*/-1);
  SchedulerOutput s = scheduler_->Schedule();
  EXPECT_THAT(Describe(s), ElementsAre(Row{"urgent", 3, true}, Row{"first", 3, true}));
  EXPECT_EQ(scheduler_->num_running(), 2);
  EXPECT_EQ(scheduler_->num_waiting(), 2);
}

TEST_F(SchedulerTest, PreemptsTheNewestRunningSequenceWhenBlocksRunOut) {
  MakeScheduler(/*num_blocks=*/3, /*block_size=*/4, 100, 4);
  Sequence* a = Add("a", 4, 20);
  Sequence* b = Add("b", 4, 20);
  Finish(scheduler_->Schedule());  // a: blocks {0}, b: {1}; each now holds 5 tokens
  // a needs a second block (takes 2); b then needs one too: none left, b is preempted.
  SchedulerOutput s = scheduler_->Schedule();
  EXPECT_THAT(Describe(s), ElementsAre(Row{"a", 1, true}));
  EXPECT_EQ(b->status, SequenceStatus::kWaiting);
  EXPECT_EQ(b->num_computed_tokens, 0);
  EXPECT_EQ(b->num_preemptions, 1);
  EXPECT_TRUE(b->block_table.empty());
  EXPECT_THAT(a->block_table, ElementsAre(0, 2));
  EXPECT_EQ(scheduler_->num_preemptions_total(), 1);
  Finish(s);
  // a keeps decoding; b (5 tokens, 2 blocks) waits: only block 1 is free.
  EXPECT_THAT(Describe(scheduler_->Schedule()), ElementsAre(Row{"a", 1, true}));
}

TEST_F(SchedulerTest, FinishedAndAbortedSequencesReturnEveryBlock) {
  Sequence* a = Add("a", 5, /*max_tokens=*/2);
  Sequence* b = Add("b", 9, 10);
  Finish(scheduler_->Schedule());
  std::vector<Sequence*> done = Finish(scheduler_->Schedule());
  ASSERT_THAT(done, ElementsAre(a));
  EXPECT_EQ(a->finish_reason, FinishReason::kLength);
  scheduler_->Abort(b);
  EXPECT_EQ(b->finish_reason, FinishReason::kAborted);
  EXPECT_FALSE(scheduler_->HasUnfinished());
  EXPECT_EQ(kv_->pool().num_blocks_free(), 11);
}

TEST_F(SchedulerTest, StopsAtEosAfterMinTokens) {
  Sequence* a = Add("a", 3, 10);
  SchedulerOutput s = scheduler_->Schedule();
  ModelOutput out;
  out.requests.resize(1);
  out.requests[0].sample.token_id = 2;  // EOS
  EXPECT_THAT(scheduler_->Update(s, out), ElementsAre(a));
  EXPECT_EQ(a->finish_reason, FinishReason::kEos);
  EXPECT_THAT(a->token_ids().back(), 2);
}

// What the runner gets: ids, positions, tokens, block tables, which rows
// sample; a request is introduced once and its end announced once.
TEST_F(SchedulerTest, ThePlanIsPlainDataForTheRunner) {
  MakeScheduler(11, 4, /*budget=*/6, 4);
  Sequence* a = Add("a", 8);
  SchedulerOutput s1 = scheduler_->Schedule();
  ASSERT_EQ(s1.new_requests.size(), 1u);
  EXPECT_EQ(s1.new_requests[0].request_id, "a");
  EXPECT_THAT(s1.new_requests[0].prompt_token_ids, ElementsAre(5, 5, 5, 5, 5, 5, 5, 5));
  ASSERT_EQ(s1.requests.size(), 1u);
  EXPECT_EQ(s1.requests[0].start_position, 0);
  EXPECT_THAT(s1.requests[0].token_ids, ElementsAre(5, 5, 5, 5, 5, 5));
  EXPECT_THAT(s1.requests[0].block_table, ElementsAre(0, 1));
  EXPECT_FALSE(s1.requests[0].sample);
  EXPECT_TRUE(s1.requests[0].prompt_logprob_targets.empty());
  Finish(s1);
  SchedulerOutput s2 = scheduler_->Schedule();
  EXPECT_TRUE(s2.new_requests.empty());
  ASSERT_EQ(s2.requests.size(), 1u);
  EXPECT_EQ(s2.requests[0].start_position, 6);
  EXPECT_THAT(s2.requests[0].token_ids, ElementsAre(5, 5));
  EXPECT_TRUE(s2.requests[0].sample);
  Finish(s2);
  scheduler_->Abort(a);
  SchedulerOutput s3 = scheduler_->Schedule();
  EXPECT_TRUE(s3.empty());
  EXPECT_THAT(s3.finished_request_ids, ElementsAre("a"));
  EXPECT_TRUE(scheduler_->Schedule().finished_request_ids.empty());
}

}  // namespace
}  // namespace gqa
