// CheckHealth and `gqa-client health` (the Docker HEALTHCHECK) against an
// in-process server: serving, loading, draining, an unknown service, and no
// server at all.
#include "client/health_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "client/client_command.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr double kDeadlineSeconds = 60;

struct CliResult {
  int exit_code;
  std::string out, err;
};

// Parses and runs `gqa-client --server ADDRESS ARGS...` as main() would.
CliResult RunCli(const std::string& address, std::vector<const char*> args) {
  args.insert(args.begin(), {"gqa-client", "--server", address.c_str()});
  absl::StatusOr<ClientOptions> o = ParseClientArgs(static_cast<int>(args.size()), args.data());
  EXPECT_TRUE(o.ok()) << o.status();
  if (!o.ok()) return {2, "", ""};
  auto client = GenerationClient::Connect(o->server);
  std::istringstream in;
  std::ostringstream out, err;
  const int code = RunClientCommand(*o, *client, in, out, err);
  return {code, out.str(), err.str()};
}

TEST(HealthArgsTest, ParsesTheServiceFlag) {
  const char* args[] = {"gqa-client", "health", "--service", "gqa.v1.Generation"};
  absl::StatusOr<ClientOptions> o = ParseClientArgs(4, args);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "health");
  EXPECT_EQ(o->health_service, "gqa.v1.Generation");
  const char* extra[] = {"gqa-client", "health", "now"};
  EXPECT_THAT(std::string(ParseClientArgs(3, extra).status().message()), HasSubstr("one command"));
}

TEST(HealthStateTest, NamesAreTheProtoEnumNames) {
  EXPECT_STREQ(HealthStateName(HealthState::kUnknown), "UNKNOWN");
  EXPECT_STREQ(HealthStateName(HealthState::kServing), "SERVING");
  EXPECT_STREQ(HealthStateName(HealthState::kNotServing), "NOT_SERVING");
  EXPECT_STREQ(HealthStateName(HealthState::kServiceUnknown), "SERVICE_UNKNOWN");
}

TEST(HealthCheckTest, ServingServerAndService) {
  auto app = StartTestServer();
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(CheckHealth(Connect(*app), "", kDeadlineSeconds).value(), HealthState::kServing);
  EXPECT_EQ(CheckHealth(Connect(*app), "gqa.v1.Generation", kDeadlineSeconds).value(),
            HealthState::kServing);

  CliResult r = RunCli(app->address(), {"health"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "SERVING\n");
  EXPECT_EQ(r.err, "");
  r = RunCli(app->address(), {"--deadline", "30", "health", "--service", "gqa.v1.Generation"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "SERVING\n");
}

TEST(HealthCheckTest, UnknownServiceIsNotFound) {
  auto app = StartTestServer();
  ASSERT_NE(app, nullptr);
  absl::StatusOr<HealthState> state =
      CheckHealth(Connect(*app), "no.such.Service", kDeadlineSeconds);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(state.status().message()), HasSubstr("'no.such.Service'"));

  CliResult r = RunCli(app->address(), {"health", "--service", "no.such.Service"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("gqa-client: NOT_FOUND: "));
}

TEST(HealthCheckTest, LoadingServerIsNotServing) {
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(TestServerOptions(), log);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(CheckHealth(Connect(**app), "", kDeadlineSeconds).value(), HealthState::kNotServing);
  CliResult r = RunCli((*app)->address(), {"health"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "NOT_SERVING\n");

  ASSERT_TRUE((*app)->Serve(TinyByteModel(), log).ok());
  r = RunCli((*app)->address(), {"health"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "SERVING\n");
}

TEST(HealthCheckTest, DrainingServerIsNotServing) {
  StepGate gate;
  auto app = StartTestServer(TestServerOptions(), &gate);
  ASSERT_NE(app, nullptr);
  // A request held mid-generation keeps the drain (and the gRPC server) open.
  gate.CloseOnFirstToken();
  std::vector<v1::GenerateResponse> messages;
  std::thread running([&] {
    auto stub = NewStub(*app);
    Stream(*stub, GreedyTextRequest("running", 8), &messages);
  });
  ASSERT_TRUE(gate.WaitUntilHeld());
  std::thread drain([&] { app->Drain(kWait); });
  ASSERT_TRUE(app->engine()->WaitFor([](const ServiceStats& s) { return s.draining; }, kWait));
  // Health turns NOT_SERVING right after the engine starts refusing requests.
  auto channel = Connect(*app);
  absl::StatusOr<HealthState> state = HealthState::kServing;
  for (int i = 0; i < 1000 && state.ok() && *state == HealthState::kServing; ++i) {
    state = CheckHealth(channel, "", kDeadlineSeconds);
  }
  EXPECT_EQ(state.value(), HealthState::kNotServing);
  CliResult r = RunCli(app->address(), {"health"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "NOT_SERVING\n");

  gate.Open();
  running.join();
  drain.join();
}

TEST(HealthCheckTest, UnreachableServerIsAnError) {
  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  absl::StatusOr<HealthState> state = CheckHealth(channel, "", 5);
  EXPECT_THAT(state.status().code(),
              AnyOf(absl::StatusCode::kUnavailable, absl::StatusCode::kDeadlineExceeded));

  CliResult r = RunCli("127.0.0.1:1", {"--deadline", "5", "health"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, AnyOf(HasSubstr("gqa-client: UNAVAILABLE"),
                           HasSubstr("gqa-client: DEADLINE_EXCEEDED")));
}

}  // namespace
}  // namespace gqa::testing
