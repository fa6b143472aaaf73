// gqa-bench's shared-prefix and multi-turn chat workloads, checked on the
// wire: a recording Generation server (in this file) keeps every prompt it
// was sent and answers with token ids derived from it, so the test knows
// exactly what each turn must have sent: turn k's prompt = turn k-1's prompt
// + the ids the server returned + turn k's new part; every first turn starts
// with the same shared prefix; a turn is sent only after the previous one
// ended; a failed turn's later turns are not sent.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_format.h"
#include "client/loadgen/benchmark.h"
#include "client/loadgen/workload.h"
#include "gqa/v1/generation.grpc.pb.h"

namespace gqa::loadgen {
namespace {

using ::testing::HasSubstr;

// What the recording server saw of one call. Sequence numbers order the
// starts and ends of all calls (one counter, under the server's mutex).
struct SeenCall {
  std::vector<int32_t> prompt;
  std::vector<int32_t> output;
  int cached = 0;  // reported as Usage.cached_prompt_tokens
  int start_seq = 0;
  int end_seq = 0;
};

// Generates max_tokens ids (2 per message) from the prompt's contents and
// reports as "cached" the longest prefix it shares with any earlier prompt,
// as a prefix cache with 1-token blocks would. Fails `fail_id` with INTERNAL.
class RecordingServer final : public v1::Generation::Service {
 public:
  static constexpr int kVocab = 1000;

  explicit RecordingServer(std::string fail_id = "") : fail_id_(std::move(fail_id)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~RecordingServer() override { server_->Shutdown(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  grpc::Status GetModelInfo(grpc::ServerContext*, const v1::GetModelInfoRequest*,
                            v1::ModelInfo* info) override {
    info->set_vocab_size(kVocab);
    info->set_context_length(4096);
    info->add_eos_token_ids(2);
    info->set_bos_token_id(1);
    return grpc::Status::OK;
  }

  grpc::Status GenerateStream(grpc::ServerContext*, const v1::GenerateRequest* request,
                              grpc::ServerWriter<v1::GenerateResponse>* writer) override {
    SeenCall call;
    call.prompt.assign(request->prompt_token_ids().ids().begin(),
                       request->prompt_token_ids().ids().end());
    {
      std::lock_guard<std::mutex> lock(mu_);
      call.start_seq = seq_++;
      max_active_ = std::max(max_active_, ++active_);
      for (const auto& [id, earlier] : calls_) {
        const auto [a, b] = std::mismatch(call.prompt.begin(), call.prompt.end(),
                                          earlier.prompt.begin(), earlier.prompt.end());
        call.cached = std::max(call.cached, static_cast<int>(a - call.prompt.begin()));
      }
    }
    uint32_t h = 17;
    for (int32_t id : call.prompt) h = h * 31 + static_cast<uint32_t>(id);
    for (int j = 0; j < request->stopping().max_tokens(); ++j) {
      call.output.push_back(3 + static_cast<int32_t>((h + 7u * j) % (kVocab - 3)));
    }
    grpc::Status status = grpc::Status::OK;
    if (request->request_id() == fail_id_) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, "told to fail");
    } else {
      for (size_t j = 0; j < call.output.size(); j += 2) {
        v1::GenerateResponse r;
        for (size_t t = j; t < std::min(j + 2, call.output.size()); ++t) {
          r.add_token_ids(call.output[t]);
        }
        if (j + 2 >= call.output.size()) {
          r.mutable_usage()->set_prompt_tokens(static_cast<int>(call.prompt.size()));
          r.mutable_usage()->set_completion_tokens(static_cast<int>(call.output.size()));
          r.mutable_usage()->set_cached_prompt_tokens(call.cached);
        }
        writer->Write(r);
      }
    }
    // Before returning: the client sees the status only after this.
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
    call.end_seq = seq_++;
    calls_[request->request_id()] = std::move(call);
    return status;
  }

  // By request id ("bench-<item index>").
  std::map<std::string, SeenCall> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int max_active() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_active_;
  }

 private:
  const std::string fail_id_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::map<std::string, SeenCall> calls_;
  int seq_ = 0;
  int active_ = 0;
  int max_active_ = 0;
};

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<int32_t> Ids(const WorkItem& w) {
  return {w.request.prompt_token_ids().ids().begin(), w.request.prompt_token_ids().ids().end()};
}

// The workload gqa-bench builds from `o` against the recording server.
std::vector<WorkItem> Workload(const BenchOptions& o) {
  WorkloadOptions w;
  w.num_prompts = o.turns > 1 ? o.num_conversations : o.num_prompts;
  w.turns = o.turns;
  w.shared_prefix_len = o.shared_prefix_len;
  w.input = o.input;
  w.output = o.output;
  w.seed = o.seed;
  v1::ModelInfo info;
  info.set_vocab_size(RecordingServer::kVocab);
  info.set_context_length(4096);
  info.add_eos_token_ids(2);
  info.set_bos_token_id(1);
  absl::StatusOr<std::vector<WorkItem>> items = BuildRandomWorkload(w, info);
  EXPECT_TRUE(items.ok()) << items.status();
  return items.ok() ? *std::move(items) : std::vector<WorkItem>{};
}

BenchOptions ChatOptions(const RecordingServer& server) {
  BenchOptions o;
  o.server = server.address();
  o.turns = 3;
  o.num_conversations = 4;
  o.shared_prefix_len = 8;
  o.input.mean = 5;
  o.output.mean = 4;
  o.seed = 21;
  o.max_concurrency = 2;
  o.progress = false;
  return o;
}

TEST(LoadgenTurnsTest, EachTurnResendsTheHistoryAndTheServersOutputExactly) {
  RecordingServer server;
  const BenchOptions o = ChatOptions(server);
  std::ostringstream err;
  absl::StatusOr<BenchResult> result = RunBenchmark(o, err);
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<WorkItem> items = Workload(o);
  ASSERT_EQ(items.size(), 12u);
  const std::map<std::string, SeenCall> calls = server.calls();
  ASSERT_EQ(calls.size(), 12u);

  const std::vector<int32_t> first_prompt = Ids(items[0]);
  const std::vector<int32_t> prefix(first_prompt.begin(), first_prompt.begin() + 8);
  int64_t cached_sum = 0;
  for (int c = 0; c < 4; ++c) {
    for (int k = 0; k < 3; ++k) {
      const int i = c * 3 + k;
      const SeenCall& call = calls.at("bench-" + std::to_string(i));
      if (k == 0) {
        EXPECT_EQ(call.prompt, Ids(items[i])) << i;
        EXPECT_EQ(std::vector<int32_t>(call.prompt.begin(), call.prompt.begin() + 8), prefix);
      } else {
        const SeenCall& previous = calls.at("bench-" + std::to_string(i - 1));
        EXPECT_EQ(call.prompt, Concat(Concat(previous.prompt, previous.output), Ids(items[i])))
            << i;
        EXPECT_GT(call.start_seq, previous.end_seq) << i;  // sent after the previous ended
      }
      EXPECT_EQ(call.prompt.size(), 8u + k * 9 + 5) << i;
      const RequestRecord& r = result->runs[0].records[i];
      EXPECT_TRUE(r.ok()) << i;
      EXPECT_EQ(r.conversation, c);
      EXPECT_EQ(r.turn, k);
      EXPECT_EQ(r.prompt_token_ids, call.prompt);
      EXPECT_EQ(r.output_token_ids, call.output);
      EXPECT_EQ(r.input_len, static_cast<int>(call.prompt.size()));
      EXPECT_EQ(r.cached_prompt_tokens, call.cached);
      cached_sum += call.cached;
    }
  }
  EXPECT_LE(server.max_active(), 2);
  const BenchmarkMetrics& m = result->runs[0].metrics;
  EXPECT_EQ(m.completed, 12);
  EXPECT_LE(m.max_concurrency_observed, 2);
  EXPECT_EQ(m.total_output_tokens, 12 * 4);
  EXPECT_EQ(m.total_cached_prompt_tokens, cached_sum);
  ASSERT_EQ(m.turns.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(m.turns[k].turn, k);
    EXPECT_EQ(m.turns[k].completed, 4);
    EXPECT_EQ(m.turns[k].input_tokens, 4 * (8 + k * 9 + 5));
    EXPECT_EQ(m.turns[k].ttft_ms.count, 4);
  }
  // A later turn shares its previous turn's whole prompt (the fake's "cache"
  // has 1-token blocks and never evicts), and nothing more.
  EXPECT_EQ(m.turns[1].cached_prompt_tokens, 4 * (8 + 5));
  EXPECT_EQ(m.turns[2].cached_prompt_tokens, 4 * (8 + 9 + 5));

  std::ostringstream out;
  BenchOptions with_json = o;
  with_json.result_json = ::testing::TempDir() + "/turns.json";
  ASSERT_TRUE(WriteBenchOutputs(with_json, *result, out).ok());
  EXPECT_THAT(out.str(), HasSubstr("TTFT by Turn (ms)"));
  EXPECT_THAT(out.str(),
              HasSubstr(absl::StrFormat("%-40s %d\n", "Total cached prompt tokens:", cached_sum)));
  std::ifstream in(with_json.result_json);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["config"]["turns"], 3);
  EXPECT_EQ(j["config"]["num_conversations"], 4);
  EXPECT_EQ(j["config"]["shared_prefix_len"], 8);
  const nlohmann::json& run = j["runs"][0];
  EXPECT_EQ(run["total_cached_prompt_tokens"], cached_sum);
  ASSERT_EQ(run["turns"].size(), 3u);
  EXPECT_EQ(run["turns"][2]["turn"], 3);
  EXPECT_EQ(run["turns"][2]["input_tokens"], 4 * (8 + 2 * 9 + 5));
  EXPECT_EQ(run["requests"][5]["conversation"], 1);
  EXPECT_EQ(run["requests"][5]["turn"], 2);
  EXPECT_EQ(run["requests"][5]["cached_prompt_tokens"], calls.at("bench-5").cached);
}

TEST(LoadgenTurnsTest, SharedPrefixPromptsShareExactlyNLeadingIdsOnTheWire) {
  RecordingServer server;
  BenchOptions o;
  o.server = server.address();
  o.num_prompts = 10;
  o.shared_prefix_len = 32;
  o.input.mean = 16;
  o.output.mean = 3;
  o.seed = 5;
  o.progress = false;
  std::ostringstream err;
  absl::StatusOr<BenchResult> result = RunBenchmark(o, err);
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<WorkItem> items = Workload(o);
  const std::map<std::string, SeenCall> calls = server.calls();
  ASSERT_EQ(calls.size(), 10u);
  const std::vector<int32_t>& first = calls.at("bench-0").prompt;
  ASSERT_EQ(first.size(), 48u);
  size_t longest_common = 0;  // over pairs of prompts
  for (int i = 0; i < 10; ++i) {
    const std::vector<int32_t>& prompt = calls.at("bench-" + std::to_string(i)).prompt;
    EXPECT_EQ(prompt, Ids(items[i])) << i;
    ASSERT_EQ(prompt.size(), 48u);
    EXPECT_TRUE(std::equal(prompt.begin(), prompt.begin() + 32, first.begin())) << i;
    for (int j = 0; j < i; ++j) {
      const std::vector<int32_t>& other = calls.at("bench-" + std::to_string(j)).prompt;
      const auto [a, b] = std::mismatch(prompt.begin(), prompt.end(), other.begin());
      longest_common = std::max(longest_common, static_cast<size_t>(a - prompt.begin()));
    }
    EXPECT_EQ(result->runs[0].records[i].conversation, -1);
    EXPECT_TRUE(result->runs[0].records[i].prompt_token_ids.empty());
  }
  // The random parts are drawn from 997 ids: no two of these 10 begin alike.
  EXPECT_EQ(longest_common, 32u);
  EXPECT_TRUE(result->runs[0].metrics.turns.empty());
}

TEST(LoadgenTurnsTest, AFailedTurnEndsItsConversationAndTheRestGoOn) {
  RecordingServer server("bench-1");  // conversation 0, turn 1
  BenchOptions o = ChatOptions(server);
  o.num_conversations = 2;
  std::ostringstream err;
  absl::StatusOr<BenchResult> result = RunBenchmark(o, err);
  ASSERT_TRUE(result.ok()) << result.status();
  const std::map<std::string, SeenCall> calls = server.calls();
  EXPECT_EQ(calls.size(), 5u);  // bench-2 never sent
  EXPECT_FALSE(calls.contains("bench-2"));
  const std::vector<RequestRecord>& records = result->runs[0].records;
  EXPECT_EQ(records[1].status_name, "INTERNAL");
  EXPECT_EQ(records[2].status_name, "ABORTED");
  EXPECT_THAT(records[2].error, HasSubstr("not sent: turn 1 of the conversation failed"));
  for (int i : {0, 3, 4, 5}) EXPECT_TRUE(records[i].ok()) << i;
  const BenchmarkMetrics& m = result->runs[0].metrics;
  EXPECT_EQ(m.completed, 4);
  EXPECT_EQ(m.failed, 2);
  EXPECT_EQ(m.failures_by_code.at("INTERNAL"), 1);
  EXPECT_EQ(m.failures_by_code.at("ABORTED"), 1);
  ASSERT_EQ(m.turns.size(), 3u);
  EXPECT_EQ(m.turns[0].completed, 2);
  EXPECT_EQ(m.turns[1].completed, 1);
  EXPECT_EQ(m.turns[2].completed, 1);
}

}  // namespace
}  // namespace gqa::loadgen
