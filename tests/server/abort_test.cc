// Abort by request id from a second client, and the rules on request ids:
// a live id is unique (ALREADY_EXISTS), it is free again once its request
// finished, empty ids are always allowed and never abortable.
//
// The StepGate holds the engine thread at the end of a step, so "running",
// "waiting" and "aborted before the next step" are exact states, not races.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

bool AllFree(const ServiceStats& s) {
  return s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
}

// One GenerateStream call, read on the test's thread.
class OpenStream {
 public:
  OpenStream(v1::Generation::Stub& stub, const v1::GenerateRequest& request) {
    SetDeadline(&ctx_, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
    reader_ = stub.GenerateStream(&ctx_, request);
  }
  bool Read(v1::GenerateResponse* m) { return reader_->Read(m); }
  // Reads to the end; every message read goes to `messages`.
  grpc::Status Finish(std::vector<v1::GenerateResponse>* messages) {
    v1::GenerateResponse m;
    while (reader_->Read(&m)) messages->push_back(m);
    return reader_->Finish();
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::GenerateResponse>> reader_;
};

v1::GenerateRequest WithId(v1::GenerateRequest r, const std::string& id) {
  r.set_request_id(id);
  return r;
}

class AbortTest : public ::testing::Test {
 protected:
  void Start(int max_num_seqs, int max_queued_requests = 256) {
    ServerOptions options = TestServerOptions();
    options.engine.max_num_seqs = max_num_seqs;
    options.queue.max_queued_requests = max_queued_requests;
    app_ = StartTestServer(options, &gate_);
    ASSERT_NE(app_, nullptr);
    client_ = NewStub(*app_);
    router_ = NewStub(*app_);  // the second client, as a router would be
  }
  void TearDown() override { gate_.Open(); }  // never leave the engine held

  std::vector<std::string> Abort(const std::vector<std::string>& ids) {
    v1::AbortRequest request;
    for (const std::string& id : ids) request.add_request_ids(id);
    v1::AbortResponse response;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
    grpc::Status s = router_->Abort(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.aborted_request_ids().begin(), response.aborted_request_ids().end()};
  }
  bool WaitForAbortsQueued(int n) {
    return app_->engine()->WaitFor([n](const ServiceStats& s) { return s.num_aborts_pending == n; },
                                   kWait);
  }
  bool WaitForActive(int n) {
    return app_->engine()->WaitFor([n](const ServiceStats& s) { return s.num_active == n; }, kWait);
  }
  // Nothing leaked: no request, no KV block, no open call, no live id.
  void ExpectEverythingReleased() {
    EXPECT_TRUE(app_->engine()->WaitFor(AllFree, kWait));
    const ServingContext* context = app_->serving_context();
    ASSERT_NE(context, nullptr);
    EXPECT_TRUE(context->calls.WaitForNone(kWait));
    EXPECT_EQ(context->live_ids.size(), 0);
  }

  StepGate gate_;
  std::unique_ptr<ServerApp> app_;
  std::unique_ptr<v1::Generation::Stub> client_;
  std::unique_ptr<v1::Generation::Stub> router_;
};

TEST_F(AbortTest, AbortEndsARunningStreamWithAbortedAndStatusOk) {
  Start(16);
  gate_.CloseOnFirstToken();
  OpenStream stream(*client_, WithId(GreedyTextRequest(std::string(40, 'a'), 200), "run-1"));
  v1::GenerateResponse first;
  ASSERT_TRUE(stream.Read(&first));
  EXPECT_EQ(first.token_ids_size(), 1);
  ASSERT_TRUE(gate_.WaitUntilHeld());

  EXPECT_THAT(Abort({"unknown", "run-1", "", "run-1"}), ElementsAre("run-1"));
  ASSERT_TRUE(WaitForAbortsQueued(1));
  gate_.Open();
  std::vector<v1::GenerateResponse> rest;
  grpc::Status s = stream.Finish(&rest);
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_FALSE(rest.empty());
  const v1::GenerateResponse& last = rest.back();
  EXPECT_EQ(last.request_id(), "run-1");
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_ABORTED);
  EXPECT_EQ(last.usage().prompt_tokens(), 41);     // BOS + 40 bytes
  EXPECT_EQ(last.usage().completion_tokens(), 1);  // no step ran after the abort
  EXPECT_EQ(Join(rest).token_ids_size(), 0);
  ExpectEverythingReleased();
  const std::vector<StepGate::Finished> finished = gate_.finished();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].reason, FinishReason::kAborted);
  EXPECT_EQ(finished[0].generation_tokens, 1);
  // The id is free again, and aborting it now finds nothing.
  EXPECT_THAT(Abort({"run-1"}), IsEmpty());
}

TEST_F(AbortTest, AbortEndsWaitingRequestsQueuedOrInTheScheduler) {
  Start(1);  // one running sequence: whatever comes next waits
  gate_.CloseEveryStep();
  OpenStream running(*client_, WithId(GreedyTextRequest("running", 200), "r"));
  ASSERT_TRUE(gate_.WaitForHolds(1));
  // "s" reaches the scheduler's waiting list in the next step; "q" stays in
  // the request queue (the engine is held when it arrives).
  OpenStream in_scheduler(*client_, WithId(GreedyTextRequest("in the scheduler", 200), "s"));
  ASSERT_TRUE(WaitForActive(2));
  gate_.ReleaseOneStep();
  ASSERT_TRUE(gate_.WaitForHolds(2));
  ASSERT_EQ(app_->engine()->Stats().num_waiting, 1);
  ASSERT_EQ(app_->engine()->Stats().num_running, 1);
  OpenStream in_queue(*client_, WithId(GreedyTextRequest("in the queue", 200), "q"));
  ASSERT_TRUE(WaitForActive(3));

  EXPECT_THAT(Abort({"q", "s"}), ElementsAre("q", "s"));
  ASSERT_TRUE(WaitForAbortsQueued(2));
  gate_.ReleaseOneStep();
  ASSERT_TRUE(gate_.WaitForHolds(3));  // the aborts came before this step
  for (OpenStream* stream : {&in_scheduler, &in_queue}) {
    std::vector<v1::GenerateResponse> messages;
    grpc::Status s = stream->Finish(&messages);
    EXPECT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(messages.size(), 1u);  // nothing generated: only the final message
    EXPECT_EQ(messages[0].finish_reason(), v1::FINISH_REASON_ABORTED);
    EXPECT_EQ(messages[0].token_ids_size(), 0);
    EXPECT_EQ(messages[0].usage().completion_tokens(), 0);
  }
  EXPECT_EQ(app_->engine()->Stats().num_active, 1);

  EXPECT_THAT(Abort({"r"}), ElementsAre("r"));
  ASSERT_TRUE(WaitForAbortsQueued(1));
  gate_.Open();
  std::vector<v1::GenerateResponse> messages;
  EXPECT_TRUE(running.Finish(&messages).ok());
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.back().finish_reason(), v1::FINISH_REASON_ABORTED);
  EXPECT_EQ(Join(messages).token_ids_size(), 3);  // steps 1..3 ran before its abort
  ExpectEverythingReleased();
  const std::vector<StepGate::Finished> finished = gate_.finished();
  ASSERT_EQ(finished.size(), 3u);
  for (const StepGate::Finished& f : finished) EXPECT_EQ(f.reason, FinishReason::kAborted);
}

TEST_F(AbortTest, ALiveIdIsAlreadyExistsAndFreeAgainOnceItsRequestFinished) {
  Start(16);
  gate_.CloseOnFirstToken();
  OpenStream first(*client_, WithId(GreedyTextRequest("first", 4), "dup"));
  v1::GenerateResponse m;
  ASSERT_TRUE(first.Read(&m));
  ASSERT_TRUE(gate_.WaitUntilHeld());

  v1::GenerateResponse refused;
  grpc::Status s = Generate(*router_, WithId(GreedyTextRequest("second", 4), "dup"), &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("request_id: 'dup'"));
  EXPECT_EQ(app_->engine()->Stats().num_active, 1);  // nothing was submitted
  std::vector<v1::GenerateResponse> stream_refused;
  EXPECT_EQ(
      Stream(*router_, WithId(GreedyTextRequest("third", 4), "dup"), &stream_refused).error_code(),
      grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(stream_refused, IsEmpty());

  gate_.Open();
  std::vector<v1::GenerateResponse> rest;
  ASSERT_TRUE(first.Finish(&rest).ok());
  EXPECT_EQ(rest.back().finish_reason(), v1::FINISH_REASON_LENGTH);
  // The final message came after the id was freed: reusable at once.
  v1::GenerateResponse again;
  s = Generate(*router_, WithId(GreedyTextRequest("again", 4), "dup"), &again);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.request_id(), "dup");
  EXPECT_EQ(again.token_ids_size(), 4);
  ExpectEverythingReleased();
  EXPECT_THAT(app_->metrics()->Render(),
              HasSubstr("gqa_requests_rejected_total{code=\"ALREADY_EXISTS\"} 2"));
}

TEST_F(AbortTest, EmptyIdsMayRepeatAndAreNotAbortable) {
  Start(16);
  gate_.CloseOnFirstToken();
  OpenStream a(*client_, GreedyTextRequest("no id", 3));
  v1::GenerateResponse m;
  ASSERT_TRUE(a.Read(&m));
  ASSERT_TRUE(gate_.WaitUntilHeld());
  OpenStream b(*router_, GreedyTextRequest("no id either", 3));
  ASSERT_TRUE(WaitForActive(2));  // both accepted
  EXPECT_EQ(app_->serving_context()->live_ids.size(), 0);
  EXPECT_THAT(Abort({""}), IsEmpty());
  EXPECT_EQ(app_->engine()->Stats().num_aborts_pending, 0);
  gate_.Open();
  for (OpenStream* stream : {&a, &b}) {
    std::vector<v1::GenerateResponse> messages;
    ASSERT_TRUE(stream->Finish(&messages).ok());
    ASSERT_FALSE(messages.empty());
    EXPECT_EQ(messages.back().finish_reason(), v1::FINISH_REASON_LENGTH);
    EXPECT_EQ(messages.back().request_id(), "");
  }
  ExpectEverythingReleased();
}

TEST_F(AbortTest, ARefusedRequestFreesItsId) {
  Start(16, /*max_queued_requests=*/1);
  v1::GenerateRequest bad = WithId(GreedyTextRequest("x", 4), "bad");
  bad.mutable_sampling()->set_top_p(1.5f);
  v1::GenerateResponse r;
  EXPECT_EQ(Generate(*client_, bad, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(app_->serving_context()->live_ids.size(), 0);

  // The queue refuses "full" after its id was taken: the id must come back.
  gate_.CloseOnFirstToken();
  OpenStream running(*client_, WithId(GreedyTextRequest("running", 3), "running"));
  v1::GenerateResponse m;
  ASSERT_TRUE(running.Read(&m));
  ASSERT_TRUE(gate_.WaitUntilHeld());
  OpenStream queued(*client_, WithId(GreedyTextRequest("queued", 3), "queued"));
  ASSERT_TRUE(WaitForActive(2));
  grpc::Status s = Generate(*router_, WithId(GreedyTextRequest("full", 3), "full"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(app_->serving_context()->live_ids.size(), 2);  // "running", "queued"
  gate_.Open();
  std::vector<v1::GenerateResponse> messages;
  EXPECT_TRUE(running.Finish(&messages).ok());
  EXPECT_TRUE(queued.Finish(&messages).ok());
  EXPECT_TRUE(Generate(*client_, WithId(GreedyTextRequest("x", 2), "full"), &r).ok());
  EXPECT_TRUE(Generate(*client_, WithId(GreedyTextRequest("x", 2), "bad"), &r).ok());
  ExpectEverythingReleased();
}

TEST_F(AbortTest, ClientCancellationStillEndsWithCancelled) {
  Start(16);
  gate_.CloseOnFirstToken();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  auto reader = client_->GenerateStream(&ctx, WithId(GreedyTextRequest("cancel me", 200), "c"));
  v1::GenerateResponse m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(gate_.WaitUntilHeld());
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitForAbortsQueued(1));
  gate_.Open();
  ExpectEverythingReleased();
}

}  // namespace
}  // namespace gqa::testing
