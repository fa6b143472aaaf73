// gqa-bench against an in-process gqa-server (tiny byte model, loopback):
// exact request and token counts, agreement with the server's /metrics, the
// JSON output, sweeps, concurrency bounds, failed requests counted
// by code, and an unreachable server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_format.h"
#include "client/loadgen/benchmark.h"
#include "tests/server/metrics/exposition_test_util.h"
#include "tests/server/metrics/http_test_client.h"
#include "tests/server/server_test_util.h"
#include "tests/support/test_paths.h"

namespace gqa::testing {
namespace {

using loadgen::BenchOptions;
using loadgen::BenchResult;
using loadgen::RunBenchCommand;
using ::testing::HasSubstr;
using Json = nlohmann::json;

// A line of the summary table, as report_table.cc lays it out.
std::string Row(const std::string& name, const std::string& value) {
  return absl::StrFormat("%-40s %s\n", name, value);
}

// Counts the tokens the engine's steps reported. OnStep runs after the
// metrics observer's, so once the count is reached /metrics has it too.
class StepTokenCounter : public EngineObserver {
 public:
  void OnStep(const StepObservation& step) override {
    std::lock_guard<std::mutex> lock(mu_);
    generated_ += step.num_generation_tokens;
    cv_.notify_all();
  }
  bool WaitForGenerated(int64_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return generated_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t generated_ = 0;
};

class LoadgenLiveTest : public ::testing::Test {
 protected:
  // Only the test that scrapes /metrics serves it: stopping civetweb takes
  // a couple of seconds.
  void SetUp() override { StartServer(/*with_metrics=*/false); }

  void StartServer(bool with_metrics) {
    app_.reset();
    ServerOptions options = TestServerOptions();
    options.metrics_port = with_metrics ? 0 : -1;
    app_ = StartTestServer(options, &counter_);
    ASSERT_NE(app_, nullptr);
    dir_ = scratch_.path().string();
  }

  // Runs gqa-bench's whole program in-process; stdout and stderr captured.
  int Bench(std::vector<std::string> args) {
    args.insert(args.begin(), {"gqa-bench", "--server", app_->address()});
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return RunBenchCommand(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  std::string Scrape() {
    absl::StatusOr<HttpResponse> r = HttpRequest(app_->metrics_port(), "GET", "/metrics");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->body : "";
  }

  static Json ReadJson(const std::string& path) {
    std::ifstream in(path);
    return Json::parse(in, nullptr, /*allow_exceptions=*/false);
  }

  StepTokenCounter counter_;
  std::unique_ptr<ServerApp> app_;
  ScratchDir scratch_;
  std::string dir_;
  std::ostringstream out_, err_;
};

TEST_F(LoadgenLiveTest, ExactCountsAgreeWithTheServersMetrics) {
  StartServer(/*with_metrics=*/true);
  const std::string json_path = dir_ + "/result.json";
  ASSERT_EQ(Bench({"--num-prompts", "24", "--input-len", "16", "--output-len", "8", "--seed", "7",
                   "--result-json", json_path}),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(Row("Successful requests:", "24")));
  EXPECT_THAT(out_.str(), HasSubstr(Row("Total generated tokens:", "192")));
  EXPECT_THAT(out_.str(), HasSubstr("Median TTFT (ms):"));

  const Json j = ReadJson(json_path);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["tool"], "gqa-bench");
  EXPECT_EQ(j["config"]["num_prompts"], 24);
  EXPECT_EQ(j["config"]["request_rates"][0], "inf");
  EXPECT_EQ(j["model_info"]["vocab_size"], ByteTokenizer::kVocabSize);
  EXPECT_EQ(j["model_info"]["context_length"], 256);
  ASSERT_EQ(j["runs"].size(), 1u);
  const Json& run = j["runs"][0];
  EXPECT_EQ(run["completed"], 24);
  EXPECT_EQ(run["failed"], 0);
  EXPECT_EQ(run["total_input_tokens"], 24 * 16);
  EXPECT_EQ(run["total_output_tokens"], 24 * 8);
  EXPECT_EQ(run["ttft_ms"]["count"], 24);
  EXPECT_EQ(run["tpot_ms"]["count"], 24);
  for (const char* key : {"duration_s", "request_throughput", "output_throughput",
                          "total_token_throughput", "max_concurrency_observed"}) {
    EXPECT_TRUE(run[key].is_number()) << key;
  }
  EXPECT_LE(run["max_concurrency_observed"].get<int>(), 24);
  ASSERT_EQ(run["requests"].size(), 24u);
  double client_ttft_sum_s = 0, client_e2e_sum_s = 0;
  for (const Json& r : run["requests"]) {
    EXPECT_EQ(r["status"], "OK");
    EXPECT_EQ(r["input_len"], 16);
    EXPECT_EQ(r["output_len"], 8);
    EXPECT_LE(r["itl_ms"].size(), 7u);  // fewer when a message carried several tokens
    EXPECT_LE(r["ttft_ms"].get<double>(), r["e2el_ms"].get<double>());
    client_ttft_sum_s += r["ttft_ms"].get<double>() / 1e3;
    client_e2e_sum_s += r["e2el_ms"].get<double>() / 1e3;
  }

  // The server saw the same requests and tokens.
  ASSERT_TRUE(counter_.WaitForGenerated(24 * 8));
  const std::string metrics = Scrape();
  EXPECT_EQ(SampleValue(metrics, "gqa_requests_finished_total{reason=\"length\"}"), 24);
  double finished = 0;
  for (const std::string& line : SampleLines(metrics)) {
    if (line.rfind("gqa_requests_finished_total{", 0) == 0) {
      finished += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  EXPECT_EQ(finished, 24);
  EXPECT_EQ(SampleValue(metrics, "gqa_generation_tokens_total"), 24 * 8);
  EXPECT_EQ(SampleValue(metrics, "gqa_prompt_tokens_total"), 24 * 16);
  EXPECT_EQ(SampleValue(metrics, "gqa_time_to_first_token_seconds_count"), 24);
  EXPECT_EQ(SampleValue(metrics, "gqa_e2e_request_latency_seconds_count"), 24);
  // Each server interval (arrival -> first token, arrival -> finish) lies
  // inside the client's (call start -> message received), so the client's
  // sums bound the server's from above. Not a timing assertion: it holds
  // however slow the machine is.
  const std::optional<double> server_ttft =
      SampleValue(metrics, "gqa_time_to_first_token_seconds_sum");
  const std::optional<double> server_e2e =
      SampleValue(metrics, "gqa_e2e_request_latency_seconds_sum");
  const std::optional<double> server_queue =
      SampleValue(metrics, "gqa_request_queue_time_seconds_sum");
  ASSERT_TRUE(server_ttft && server_e2e && server_queue);
  EXPECT_LE(*server_ttft, client_ttft_sum_s + 1e-6);
  EXPECT_LE(*server_e2e, client_e2e_sum_s + 1e-6);
  EXPECT_LE(*server_queue, client_ttft_sum_s + 1e-6);
}

TEST_F(LoadgenLiveTest, SweepRunsTheSameWorkloadOncePerRate) {
  BenchOptions o;
  o.server = app_->address();
  o.num_prompts = 6;
  o.input = {loadgen::LengthDist::kUniform, 12, 0.5};
  o.output = {loadgen::LengthDist::kUniform, 6, 0.5};
  o.request_rates = {200, std::numeric_limits<double>::infinity()};
  o.sweep = true;
  o.result_json = dir_ + "/sweep.json";
  o.slo.ttft_ms = 1e6;  // every request meets it
  std::ostringstream err;
  absl::StatusOr<BenchResult> result = loadgen::RunBenchmark(o, err);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->runs.size(), 2u);
  int64_t expected_output = 0;
  for (const loadgen::RequestRecord& r : result->runs[0].records) {
    expected_output += r.expected_output_len;
  }
  for (const loadgen::RunResult& run : result->runs) {
    EXPECT_EQ(run.metrics.completed, 6);
    EXPECT_EQ(run.metrics.total_output_tokens, expected_output);  // ignore_eos: exact
    EXPECT_EQ(run.metrics.good_requests, 6);
    for (size_t i = 0; i < run.records.size(); ++i) {
      EXPECT_EQ(run.records[i].input_len, result->runs[0].records[i].input_len);
      EXPECT_GE(run.records[i].start_s, run.records[i].arrival_s);
    }
  }
  // Rate 200: arrivals spread out from 0; inf: all at 0.
  EXPECT_EQ(result->runs[0].records[0].arrival_s, 0);
  EXPECT_GT(result->runs[0].records[5].arrival_s, 0);
  EXPECT_EQ(result->runs[1].records[5].arrival_s, 0);

  std::ostringstream out;
  ASSERT_TRUE(loadgen::WriteBenchOutputs(o, *result, out).ok());
  EXPECT_THAT(out.str(), HasSubstr("Sweep (latencies in ms):"));
  const Json j = ReadJson(o.result_json);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["request_rate"], 200);
  EXPECT_EQ(j["runs"][1]["request_rate"], "inf");
  EXPECT_EQ(j["runs"][1]["goodput"].is_number(), true);
}

TEST_F(LoadgenLiveTest, MaxConcurrencyBoundsRequestsInFlight) {
  BenchOptions o;
  o.server = app_->address();
  o.num_prompts = 10;
  o.input.mean = 8;
  o.output.mean = 4;
  o.max_concurrency = 2;
  o.progress = false;
  std::ostringstream err;
  absl::StatusOr<BenchResult> result = loadgen::RunBenchmark(o, err);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->runs[0].metrics.completed, 10);
  EXPECT_GE(result->runs[0].metrics.max_concurrency_observed, 1);
  EXPECT_LE(result->runs[0].metrics.max_concurrency_observed, 2);
  EXPECT_EQ(err.str(), "");  // --no-progress
}

TEST_F(LoadgenLiveTest, JsonlTextPromptsAndFailedRequestsCountedByCode) {
  const std::string path = dir_ + "/prompts.jsonl";
  {
    std::ofstream f(path);
    f << "{\"prompt\": \"hello\", \"output_len\": 3}\n";
    f << "{\"prompt_token_ids\": [5, 6, 7, 8]}\n";
    // 300 bytes + BOS > the 256-token context: the server refuses it.
    f << "{\"prompt\": \"" << std::string(300, 'x') << "\", \"output_len\": 4}\n";
  }
  ASSERT_EQ(Bench({"--dataset", "jsonl", "--dataset-path", path, "--num-prompts", "6",
                   "--output-len", "5", "--result-json", dir_ + "/r.json"}),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(Row("Failed requests:", "2")));
  EXPECT_THAT(out_.str(), HasSubstr(Row("  INVALID_ARGUMENT:", "2")));
  const Json j = ReadJson(dir_ + "/r.json");
  const Json& run = j["runs"][0];
  EXPECT_EQ(run["completed"], 4);
  EXPECT_EQ(run["failures_by_code"]["INVALID_ARGUMENT"], 2);
  // "hello" with the byte tokenizer: BOS + 5 bytes, as the server reported.
  v1::TokenizeRequest tr;
  tr.set_text("hello");
  v1::TokenizeResponse tokens;
  grpc::ClientContext ctx;
  ASSERT_TRUE(NewStub(*app_)->Tokenize(&ctx, tr, &tokens).ok());
  EXPECT_EQ(run["requests"][0]["input_len"], tokens.token_ids_size());
  EXPECT_EQ(run["requests"][0]["output_len"], 3);
  EXPECT_EQ(run["requests"][1]["input_len"], 4);
  EXPECT_EQ(run["requests"][1]["output_len"], 5);
  EXPECT_EQ(run["requests"][2]["status"], "INVALID_ARGUMENT");
  EXPECT_TRUE(run["requests"][2]["ttft_ms"].is_null());
  EXPECT_EQ(run["total_output_tokens"], 2 * (3 + 5));
}

TEST_F(LoadgenLiveTest, MultiTurnChatWithASharedPrefixRunsEveryTurn) {
  const std::string json_path = dir_ + "/chat.json";
  ASSERT_EQ(Bench({"--turns", "3", "--num-conversations", "4", "--shared-prefix-len", "16",
                   "--input-len", "8", "--output-len", "6", "--max-concurrency", "3", "--seed", "2",
                   "--result-json", json_path, "--no-progress"}),
            0)
      << err_.str();
  // Turn k's prompt: 16 + k * (8 + 6) + 8 tokens.
  EXPECT_THAT(out_.str(), HasSubstr(Row("Successful requests:", "12")));
  EXPECT_THAT(out_.str(), HasSubstr(Row("Total input tokens:", "456")));  // 4 * (24 + 38 + 52)
  EXPECT_THAT(out_.str(), HasSubstr(Row("Total generated tokens:", "72")));
  EXPECT_THAT(out_.str(), HasSubstr("TTFT by Turn (ms)"));
  const Json j = ReadJson(json_path);
  ASSERT_FALSE(j.is_discarded());
  const Json& run = j["runs"][0];
  EXPECT_LE(run["max_concurrency_observed"].get<int>(), 3);
  ASSERT_EQ(run["turns"].size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(run["turns"][k]["completed"], 4);
    EXPECT_EQ(run["turns"][k]["input_tokens"], 4 * (16 + k * 14 + 8));
    EXPECT_EQ(run["turns"][k]["ttft_ms"]["count"], 4);
  }
  ASSERT_EQ(run["requests"].size(), 12u);
  for (int i = 0; i < 12; ++i) {
    const Json& r = run["requests"][i];
    EXPECT_EQ(r["status"], "OK");
    EXPECT_EQ(r["conversation"], i / 3);
    EXPECT_EQ(r["turn"], i % 3);
    EXPECT_EQ(r["input_len"], 16 + (i % 3) * 14 + 8);  // the server's count
    EXPECT_EQ(r["output_len"], 6);
    // A turn starts after its previous turn ended.
    if (i % 3 > 0) {
      EXPECT_GE(r["start_s"], run["requests"][i - 1]["end_s"]);
    }
  }
}

TEST_F(LoadgenLiveTest, BadDatasetIsAClearError) {
  const std::string path = dir_ + "/bad.jsonl";
  std::ofstream(path) << "{\"prompt\": \"ok\"}\n{\"prompt_token_ids\": [1, 99999]}\n";
  EXPECT_EQ(Bench({"--dataset", "jsonl", "--dataset-path", path, "--num-prompts", "2"}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(path + ":2: token id 99999 is not below the model's"));
  EXPECT_EQ(Bench({"--dataset", "jsonl", "--dataset-path", dir_ + "/missing.jsonl"}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("cannot open dataset file"));
  EXPECT_EQ(Bench({"--num-prompts", "x"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("gqa-bench: --num-prompts: 'x' is not an integer"));
}

TEST(LoadgenUnreachableTest, UnreachableServerIsAnErrorNotACrash) {
  BenchOptions o;
  o.server = "127.0.0.1:1";  // nothing listens on port 1
  o.connect_timeout_s = 5;
  std::ostringstream err;
  absl::StatusOr<BenchResult> result = loadgen::RunBenchmark(o, err);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(),
              HasSubstr("cannot get the model info from gqa-server at 127.0.0.1:1"));

  const char* argv[] = {"gqa-bench", "--server", "127.0.0.1:1", "--num-prompts", "2"};
  std::ostringstream out;
  EXPECT_EQ(RunBenchCommand(5, argv, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("gqa-bench: cannot get the model info"));
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace gqa::testing
