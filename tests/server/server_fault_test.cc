// gqa-server when the engine's device fails, with FaultInjectingBackend
// wrapped around the CPU backend (ServerApp::TestHooks): a failed forward pass
// fails every running and waiting call with INTERNAL and the server lives on
// NOT_SERVING, refusing new calls with UNAVAILABLE; a step that hangs past
// --step-timeout-seconds turns health NOT_SERVING and exits the process with
// its own status. Each counted in gqa_engine_failures_total. The tests wait on
// the fault backend's hang, Engine::WaitFor and the exit hook, never a clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/server/server_test_util.h"
#include "tests/support/fault_injecting_backend.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kNotServing = 2;  // grpc.health.v1 HealthCheckResponse.NOT_SERVING

// A started server whose backend is `plan`'s fault injector; `device` is set
// to it (owned by the engine, alive while the app is).
std::unique_ptr<ServerApp> StartFaultyServer(const ServerOptions& options, const FaultPlan& plan,
                                             FaultInjectingBackend** device,
                                             std::function<void(int)> exit_process = nullptr) {
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(options, log);
  EXPECT_TRUE(app.ok()) << app.status();
  if (!app.ok()) return nullptr;
  ServerApp::TestHooks hooks;
  hooks.wrap_backend = [plan, device](std::unique_ptr<Backend> inner) {
    auto faulty = std::make_unique<FaultInjectingBackend>(plan, std::move(inner));
    *device = faulty.get();
    return faulty;
  };
  hooks.exit_process = std::move(exit_process);
  (*app)->SetTestHooks(std::move(hooks));
  const absl::Status s = (*app)->Serve(TinyByteModel(), log);
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? *std::move(app) : nullptr;
}

// The line of `family{labels}` in the exposition text ("" if absent).
std::string SeriesLine(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return line;
  }
  return "";
}

// A forward pass fails (a CUDA error latched by the backend) while one call
// runs and two wait: all three end with INTERNAL, health is NOT_SERVING, new
// calls get UNAVAILABLE, the failure and the three error finishes are
// counted, no call stays open, and the server still answers.
TEST(ServerFaultTest, FailedForwardPassFailsTheCallsAndStopsServing) {
  FaultInjectingBackend* device = nullptr;
  // The first SiluMul latches the error and then holds the step until the
  // test has the other two calls queued.
  std::unique_ptr<ServerApp> app = StartFaultyServer(
      TestServerOptions(), FaultPlan{.fail_silu_at = 1, .hang_silu_at = 1}, &device);
  ASSERT_NE(app, nullptr);
  ASSERT_NE(device, nullptr);
  auto stub = NewStub(*app);
  const std::shared_ptr<grpc::Channel> channel = Connect(*app);
  EXPECT_EQ(HealthStatus(channel, ""), 1);  // SERVING

  grpc::Status running_status, waiting_stream_status, waiting_unary_status;
  std::vector<v1::GenerateResponse> running_messages, waiting_messages;
  std::thread running(
      [&] { running_status = Stream(*stub, GreedyTextRequest("running", 8), &running_messages); });
  ASSERT_TRUE(device->WaitUntilHung(kWait));
  std::thread waiting_stream([&] {
    waiting_stream_status = Stream(*stub, GreedyTextRequest("waiting", 8), &waiting_messages);
  });
  std::thread waiting_unary([&] {
    v1::GenerateResponse r;
    waiting_unary_status = Generate(*stub, GreedyTextRequest("unary", 8), &r);
  });
  ASSERT_TRUE(
      app->engine()->WaitFor([](const ServiceStats& s) { return s.num_active == 3; }, kWait));
  device->Release();
  running.join();
  waiting_stream.join();
  waiting_unary.join();

  for (const grpc::Status* s : {&running_status, &waiting_stream_status, &waiting_unary_status}) {
    EXPECT_EQ(s->error_code(), grpc::StatusCode::INTERNAL) << s->error_message();
    EXPECT_THAT(s->error_message(), HasSubstr("injected device fault"));
  }
  EXPECT_TRUE(running_messages.empty());  // the failed step's tokens are never sent
  EXPECT_TRUE(waiting_messages.empty());

  EXPECT_EQ(HealthStatus(channel, ""), kNotServing);
  EXPECT_EQ(HealthStatus(channel, HealthAndDrain::kServiceName), kNotServing);
  v1::GenerateResponse r;
  const grpc::Status refused = Generate(*stub, GreedyTextRequest("late", 4), &r);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("the engine failed (injected device fault"));

  // The process lives on: other RPCs still answer.
  grpc::ClientContext ctx;
  v1::ModelInfo info;
  EXPECT_TRUE(stub->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info).ok());
  ASSERT_TRUE(app->serving_context()->calls.WaitForNone(kWait));
  EXPECT_TRUE(app->engine()->WaitFor(
      [](const ServiceStats& s) {
        return s.failed && s.num_active == 0 && s.num_kv_blocks_free == s.num_kv_blocks_total;
      },
      kWait));

  const std::string text = app->metrics()->Render();
  EXPECT_EQ(SeriesLine(text, "gqa_engine_failures_total{cause=\"backend_error\"}"),
            "gqa_engine_failures_total{cause=\"backend_error\"} 1");
  EXPECT_EQ(SeriesLine(text, "gqa_engine_failures_total{cause=\"step_timeout\"}"),
            "gqa_engine_failures_total{cause=\"step_timeout\"} 0");
  EXPECT_EQ(SeriesLine(text, "gqa_requests_finished_total{reason=\"error\"}"),
            "gqa_requests_finished_total{reason=\"error\"} 3");
  EXPECT_EQ(SeriesLine(text, "gqa_requests_rejected_total{code=\"UNAVAILABLE\"}"),
            "gqa_requests_rejected_total{code=\"UNAVAILABLE\"} 1");
}

// A step hangs past --step-timeout-seconds: health turns NOT_SERVING, the
// timeout is counted, new calls get UNAVAILABLE, and the process exit comes
// with kStepTimeoutExitCode (the hook stands in for std::_Exit here). When
// the device is let go the stuck call completes, and nothing leaks.
TEST(ServerFaultTest, HungStepTurnsNotServingAndExits) {
  ServerOptions options = TestServerOptions();
  options.step_timeout_seconds = 0.05;
  options.step_timeout_exit_grace_seconds = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> exit_codes;
  FaultInjectingBackend* device = nullptr;
  std::unique_ptr<ServerApp> app =
      StartFaultyServer(options, FaultPlan{.hang_silu_at = 3}, &device, [&](int code) {
        std::lock_guard<std::mutex> lock(mu);
        exit_codes.push_back(code);
        cv.notify_all();
      });
  ASSERT_NE(app, nullptr);
  auto stub = NewStub(*app);
  const std::shared_ptr<grpc::Channel> channel = Connect(*app);

  grpc::Status stuck_status;
  std::vector<v1::GenerateResponse> stuck_messages;
  std::thread stuck(
      [&] { stuck_status = Stream(*stub, GreedyTextRequest("stuck", 5), &stuck_messages); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return !exit_codes.empty(); }));
  }
  EXPECT_EQ(exit_codes, std::vector<int>{ServerApp::kStepTimeoutExitCode});
  EXPECT_EQ(HealthStatus(channel, ""), kNotServing);
  EXPECT_EQ(HealthStatus(channel, HealthAndDrain::kServiceName), kNotServing);
  v1::GenerateResponse r;
  const grpc::Status refused = Generate(*stub, GreedyTextRequest("late", 4), &r);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("past --step-timeout-seconds 0.05"));
  const std::string text = app->metrics()->Render();
  EXPECT_EQ(SeriesLine(text, "gqa_engine_failures_total{cause=\"step_timeout\"}"),
            "gqa_engine_failures_total{cause=\"step_timeout\"} 1");
  EXPECT_EQ(SeriesLine(text, "gqa_engine_failures_total{cause=\"backend_error\"}"),
            "gqa_engine_failures_total{cause=\"backend_error\"} 0");

  device->Release();
  stuck.join();
  EXPECT_TRUE(stuck_status.ok()) << stuck_status.error_message();
  EXPECT_EQ(Join(stuck_messages).token_ids_size(), 5);
  EXPECT_TRUE(app->serving_context()->calls.WaitForNone(kWait));
  EXPECT_EQ(exit_codes.size(), 1u);  // the watchdog fires once
}

// The real exit, in a child process: a hung step ends gqa-server with
// kStepTimeoutExitCode and says why on stderr.
TEST(ServerFaultDeathTest, HungStepExitsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ServerOptions options = TestServerOptions();
        options.step_timeout_seconds = 0.05;
        options.step_timeout_exit_grace_seconds = 0;
        FaultInjectingBackend* device = nullptr;
        std::unique_ptr<ServerApp> app =
            StartFaultyServer(options, FaultPlan{.hang_silu_at = 1}, &device);
        auto stub = NewStub(*app);
        v1::GenerateResponse r;
        Generate(*stub, GreedyTextRequest("stuck", 4), &r);  // never returns
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(ServerApp::kStepTimeoutExitCode),
      "past --step-timeout-seconds 0.05 \\(a hung device\\); health NOT_SERVING, exiting with "
      "status 3");
}

// --step-timeout-seconds: default 60, 0 turns it off, negative is refused.
TEST(ServerFaultTest, StepTimeoutFlag) {
  const char* defaults[] = {"gqa-server"};
  absl::StatusOr<ServerOptions> o = ParseServerArgs(1, defaults);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->step_timeout_seconds, 60);
  const char* off[] = {"gqa-server", "--step-timeout-seconds", "0"};
  o = ParseServerArgs(3, off);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->step_timeout_seconds, 0);
  const char* bad[] = {"gqa-server", "--step-timeout-seconds", "-1"};
  EXPECT_EQ(ParseServerArgs(3, bad).status().message(), "--step-timeout-seconds must be >= 0");
}

}  // namespace
}  // namespace gqa::testing
