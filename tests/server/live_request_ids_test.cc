// LiveRequestIds on its own: unique live ids, empty ids never registered,
// an abort that arrives before submission, release by the lease.
#include "server/live_request_ids.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gqa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Aborted {
  std::vector<std::string> engine_ids;
  std::function<void(const std::string&)> fn() {
    return [this](const std::string& id) { engine_ids.push_back(id); };
  }
};

TEST(LiveRequestIdsTest, ALiveIdIsTakenUntilItsLeaseIsReleased) {
  LiveRequestIds ids;
  absl::StatusOr<LiveRequestIds::Lease> first = ids.Acquire("a", "0");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->empty());
  EXPECT_EQ(ids.size(), 1);

  absl::StatusOr<LiveRequestIds::Lease> second = ids.Acquire("a", "1");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("'a'"));
  EXPECT_EQ(ids.size(), 1);

  first->Release();
  EXPECT_EQ(ids.size(), 0);
  first->Release();  // idempotent
  absl::StatusOr<LiveRequestIds::Lease> again = ids.Acquire("a", "2");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ids.size(), 1);
}

TEST(LiveRequestIdsTest, TheLeaseReleasesOnDestructionAndMovesWithItsOwner) {
  LiveRequestIds ids;
  {
    absl::StatusOr<LiveRequestIds::Lease> lease = ids.Acquire("a", "0");
    ASSERT_TRUE(lease.ok());
    LiveRequestIds::Lease moved = *std::move(lease);
    EXPECT_TRUE(lease->empty());
    EXPECT_FALSE(moved.empty());
    EXPECT_EQ(ids.size(), 1);
  }
  EXPECT_EQ(ids.size(), 0);
}

TEST(LiveRequestIdsTest, EmptyIdsAreNeverRegisteredNorAbortable) {
  LiveRequestIds ids;
  absl::StatusOr<LiveRequestIds::Lease> a = ids.Acquire("", "0");
  absl::StatusOr<LiveRequestIds::Lease> b = ids.Acquire("", "1");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(a->empty());
  EXPECT_EQ(ids.size(), 0);
  EXPECT_FALSE(a->MarkSubmitted());
  Aborted aborted;
  const std::vector<std::string> request = {""};
  EXPECT_THAT(ids.Abort(request, aborted.fn()), IsEmpty());
  EXPECT_THAT(aborted.engine_ids, IsEmpty());
}

TEST(LiveRequestIdsTest, AbortReachesSubmittedRequestsByTheirEngineIds) {
  LiveRequestIds ids;
  absl::StatusOr<LiveRequestIds::Lease> a = ids.Acquire("a", "7");
  absl::StatusOr<LiveRequestIds::Lease> b = ids.Acquire("b", "8");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->MarkSubmitted());
  EXPECT_FALSE(b->MarkSubmitted());
  Aborted aborted;
  const std::vector<std::string> request = {"b", "unknown", "a", "b", ""};
  EXPECT_THAT(ids.Abort(request, aborted.fn()), ElementsAre("b", "a"));
  EXPECT_THAT(aborted.engine_ids, ElementsAre("8", "7"));
  // Aborting does not free the id: the request's final delta does.
  EXPECT_EQ(ids.size(), 2);
}

TEST(LiveRequestIdsTest, AnAbortBeforeSubmissionIsHandedToTheSubmitter) {
  LiveRequestIds ids;
  absl::StatusOr<LiveRequestIds::Lease> a = ids.Acquire("a", "3");
  ASSERT_TRUE(a.ok());
  Aborted aborted;
  const std::vector<std::string> request = {"a"};
  EXPECT_THAT(ids.Abort(request, aborted.fn()), ElementsAre("a"));
  EXPECT_THAT(aborted.engine_ids, IsEmpty());  // not in the engine yet
  EXPECT_TRUE(a->MarkSubmitted());             // so the submitter aborts it
  // Once submitted, later aborts go to the engine.
  EXPECT_THAT(ids.Abort(request, aborted.fn()), ElementsAre("a"));
  EXPECT_THAT(aborted.engine_ids, ElementsAre("3"));
}

TEST(LiveRequestIdsTest, AReleasedIdIsNoLongerFound) {
  LiveRequestIds ids;
  absl::StatusOr<LiveRequestIds::Lease> a = ids.Acquire("a", "3");
  ASSERT_TRUE(a.ok());
  a->MarkSubmitted();
  a->Release();
  Aborted aborted;
  const std::vector<std::string> request = {"a"};
  EXPECT_THAT(ids.Abort(request, aborted.fn()), IsEmpty());
  EXPECT_THAT(aborted.engine_ids, IsEmpty());
}

}  // namespace
}  // namespace gqa
