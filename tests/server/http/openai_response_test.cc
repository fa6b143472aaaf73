#include "server/http/openai_response.h"

#include <gtest/gtest.h>

#include "client/generation_client.h"

namespace gqa {
namespace {

// Every finish reason on the wire has its name in OpenAI's JSON (vLLM's names)
// and in gqa-client's output; only UNSPECIFIED (not finished) has none.
TEST(FinishReasonNamesTest, EveryReasonHasAName) {
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_LENGTH), "length");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_STOP), "stop");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_EOS), "stop");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_ABORTED), "abort");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_ERROR), "error");
  EXPECT_TRUE(FinishReasonJson(v1::FINISH_REASON_UNSPECIFIED).is_null());

  EXPECT_STREQ(FinishReasonName(v1::FINISH_REASON_LENGTH), "length");
  EXPECT_STREQ(FinishReasonName(v1::FINISH_REASON_STOP), "stop");
  EXPECT_STREQ(FinishReasonName(v1::FINISH_REASON_EOS), "eos");
  EXPECT_STREQ(FinishReasonName(v1::FINISH_REASON_ABORTED), "aborted");
  EXPECT_STREQ(FinishReasonName(v1::FINISH_REASON_ERROR), "error");
  EXPECT_STREQ(FinishReasonName(v1::FINISH_REASON_UNSPECIFIED), "unspecified");
}

}  // namespace
}  // namespace gqa
