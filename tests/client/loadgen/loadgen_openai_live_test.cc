// gqa-bench --backend openai against an in-process gqa-server's HTTP API
// (tiny byte model, loopback): the same workload as over gRPC gives the same
// exact request and token counts and per-request lengths; the server's
// Retry-After 429s count as RESOURCE_EXHAUSTED; an unreachable URL is an
// error before anything is sent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <sstream>

#include "client/loadgen/benchmark.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using loadgen::BenchOptions;
using loadgen::BenchResult;
using ::testing::HasSubstr;

class LoadgenOpenAiLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options = TestServerOptions();
    options.metrics_port = -1;
    options.http_port = 0;
    options.http_threads = 16;  // as HttpTestServerOptions
    app_ = StartTestServer(options);
    ASSERT_NE(app_, nullptr);
    ASSERT_GT(app_->http_port(), 0);
  }

  BenchOptions Options(const std::string& backend) const {
    BenchOptions o;
    o.server = app_->address();
    o.backend = backend;
    o.openai_url = "http://127.0.0.1:" + std::to_string(app_->http_port());
    o.num_prompts = 12;
    o.input = {loadgen::LengthDist::kUniform, 16, 0.5};
    o.output = {loadgen::LengthDist::kUniform, 10, 0.5};
    o.seed = 3;
    o.progress = false;
    return o;
  }

  std::unique_ptr<ServerApp> app_;
};

TEST_F(LoadgenOpenAiLiveTest, TheSameWorkloadGivesTheSameCountsAsGrpc) {
  std::ostringstream err;
  absl::StatusOr<BenchResult> grpc = loadgen::RunBenchmark(Options("grpc"), err);
  ASSERT_TRUE(grpc.ok()) << grpc.status();
  BenchOptions o = Options("openai");
  o.max_concurrency = 4;
  absl::StatusOr<BenchResult> http = loadgen::RunBenchmark(o, err);
  ASSERT_TRUE(http.ok()) << http.status();
  const loadgen::RunResult& g = grpc->runs.at(0);
  const loadgen::RunResult& h = http->runs.at(0);
  EXPECT_EQ(h.metrics.completed, 12);
  EXPECT_EQ(h.metrics.failed, 0);
  EXPECT_EQ(h.metrics.total_input_tokens, g.metrics.total_input_tokens);
  EXPECT_EQ(h.metrics.total_output_tokens, g.metrics.total_output_tokens);
  EXPECT_LE(h.metrics.max_concurrency_observed, 4);
  ASSERT_EQ(h.records.size(), g.records.size());
  for (size_t i = 0; i < h.records.size(); ++i) {
    const loadgen::RequestRecord& r = h.records[i];
    EXPECT_TRUE(r.ok()) << r.status_name << ": " << r.error;
    EXPECT_EQ(r.input_len, g.records[i].input_len) << i;
    EXPECT_EQ(r.output_len, r.expected_output_len) << i;  // ignore_eos: exact
    EXPECT_EQ(r.output_len, g.records[i].output_len) << i;
    int tokens = 0;
    for (int n : r.message_tokens) tokens += n;
    EXPECT_EQ(tokens, r.output_len) << i;
    EXPECT_GE(r.start_s, r.arrival_s);
    ASSERT_TRUE(r.has_tokens());
    EXPECT_LE(r.start_s, r.message_times_s.front());
    EXPECT_LE(r.message_times_s.back(), r.end_s);
  }
}

TEST_F(LoadgenOpenAiLiveTest, TheWholeProgramWritesTheBackendIntoItsJson) {
  std::ostringstream out, err;
  const std::string url = "http://127.0.0.1:" + std::to_string(app_->http_port());
  const std::vector<std::string> args = {"gqa-bench",
                                         "--server",
                                         app_->address(),
                                         "--backend",
                                         "openai",
                                         "--openai-url",
                                         url,
                                         "--num-prompts",
                                         "3",
                                         "--input-len",
                                         "8",
                                         "--output-len",
                                         "4",
                                         "--no-progress"};
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  ASSERT_EQ(loadgen::RunBenchCommand(static_cast<int>(argv.size()), argv.data(), out, err), 0)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr("Total generated tokens:"));
  EXPECT_THAT(out.str(), HasSubstr(" 12\n"));
}

TEST_F(LoadgenOpenAiLiveTest, AnUnreachableUrlFailsBeforeSending) {
  BenchOptions o = Options("openai");
  o.openai_url = "http://127.0.0.1:1";
  std::ostringstream err;
  absl::StatusOr<BenchResult> r = loadgen::RunBenchmark(o, err);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("/v1/models"));
}

}  // namespace
}  // namespace gqa::testing
