// The prefix cache as clients see it: ModelInfo says whether it is on,
// Usage.cached_prompt_tokens and GetLoad's counters report the reuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

class PrefixCacheApiTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ServerOptions options = TestServerOptions();
    options.engine.enable_prefix_caching = GetParam();
    app_ = StartTestServer(options);
    ASSERT_NE(app_, nullptr);
    stub_ = NewStub(*app_);
  }
  v1::Load GetLoad() {
    v1::Load load;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetLoad(&ctx, v1::GetLoadRequest(), &load).ok());
    return load;
  }

  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> stub_;
};

TEST_P(PrefixCacheApiTest, ModelInfoSaysWhetherItIsOn) {
  v1::ModelInfo info;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.prefix_caching_enabled(), GetParam());
}

TEST_P(PrefixCacheApiTest, ARepeatedPromptReportsItsCachedTokens) {
  // 40 prompt tokens (BOS + 39 bytes): two full blocks of 16 and 8 more. The
  // repeat finds the two full blocks (32 tokens) and computes the rest.
  const v1::GenerateRequest request = GreedyTextRequest(std::string(39, 'p'), 4);
  v1::GenerateResponse first, second;
  ASSERT_TRUE(Generate(*stub_, request, &first).ok());
  ASSERT_TRUE(Generate(*stub_, request, &second).ok());
  EXPECT_EQ(first.usage().prompt_tokens(), 40);
  EXPECT_EQ(first.usage().cached_prompt_tokens(), 0);  // nothing cached before it
  EXPECT_EQ(second.usage().prompt_tokens(), 40);
  // Same greedy tokens whether the prefix was computed or reused.
  EXPECT_EQ(std::vector<int>(second.token_ids().begin(), second.token_ids().end()),
            std::vector<int>(first.token_ids().begin(), first.token_ids().end()));
  ASSERT_TRUE(
      app_->engine()->WaitFor([](const ServiceStats& s) { return s.num_active == 0; }, kWait));
  const v1::Load load = GetLoad();
  EXPECT_EQ(load.num_kv_blocks_used(), 0);
  if (!GetParam()) {
    EXPECT_EQ(second.usage().cached_prompt_tokens(), 0);
    EXPECT_EQ(load.prefix_cache_hits_tokens(), 0);
    EXPECT_EQ(load.num_kv_blocks_cached(), 0);
    return;
  }
  EXPECT_EQ(second.usage().cached_prompt_tokens(), 32);
  EXPECT_EQ(load.prefix_cache_hits_tokens(), 32);
  EXPECT_GE(load.prefix_cache_queries_tokens(), 80 - 2);  // each prompt, maybe less its last token
  EXPECT_LE(load.prefix_cache_queries_tokens(), 80);
  EXPECT_EQ(load.num_kv_blocks_cached(), 2);  // the two full prompt blocks stay cached
}

INSTANTIATE_TEST_SUITE_P(OnAndOff, PrefixCacheApiTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "On" : "Off";
                         });

}  // namespace
}  // namespace gqa::testing
