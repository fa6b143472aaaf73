// Helpers for the gRPC server tests: a tiny model with a byte tokenizer, an
// in-process server on loopback (port 0), a step gate that holds the engine
// thread still at a chosen moment, and a grpc.health.v1 check.
//
// Synchronization is by condition variables and deadlines only: the gate
// blocks the engine thread inside EngineObserver::OnStep until the test opens
// it, and Engine::WaitFor re-checks a predicate after every change.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/dummy_weights.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "gqa/v1/generation.grpc.pb.h"
#include "server/generate_reactors.h"
#include "server/server_app.h"

namespace gqa::testing {

inline constexpr std::chrono::seconds kWait{60};  // bound on every wait; never reached when passing

// A tiny GQA-4 model (2 layers, dim 64) over the 259-token byte vocabulary.
inline ModelConfig TinyByteModelConfig(int max_seq_len = 256) {
  ModelConfig c;
  c.name = "tiny-test";
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = 2;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.vocab_size = ByteTokenizer::kVocabSize;
  c.max_seq_len = max_seq_len;
  c.eos_token_ids = {ByteTokenizer::kEosId};
  return c;
}

inline LoadedModel TinyByteModel(int max_seq_len = 256, uint64_t seed = 11) {
  LoadedModel m;
  absl::StatusOr<ModelWeights> w =
      MakeDummyWeights(TinyByteModelConfig(max_seq_len), DType::kF32, seed);
  EXPECT_TRUE(w.ok()) << w.status();
  m.weights = *std::move(w);
  m.tokenizer = std::make_unique<ByteTokenizer>();
  m.description = "tiny test model";
  return m;
}

// TinyByteModel that answers chats through `chat_template`.
inline LoadedModel TinyByteChatModel(std::string_view chat_template = kChatMlTemplate) {
  LoadedModel m = TinyByteModel();
  absl::StatusOr<std::unique_ptr<ModelChatTemplate>> t =
      ModelChatTemplate::Create(chat_template, "test template", m.tokenizer.get());
  EXPECT_TRUE(t.ok()) << t.status();
  if (t.ok()) m.chat_template = *std::move(t);
  return m;
}

// Loopback, any free port, no metrics endpoint, 2 CPU threads.
inline ServerOptions TestServerOptions() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.metrics_port = -1;
  o.backend.backend = "cpu";
  o.backend.threads = 2;
  o.engine.max_num_seqs = 16;
  o.engine.max_num_batched_tokens = 256;
  return o;
}

// Holds the engine thread at the end of a step (in OnStep) while closed.
// close_on_first_token: closes itself when a request gets its first token, so
// the engine stops right after that step. CloseEveryStep + ReleaseOneStep
// walk the engine one step at a time. Also records finished requests.
class StepGate : public EngineObserver {
 public:
  struct Finished {
    int prompt_tokens;
    int generation_tokens;
    FinishReason reason;
  };

  void CloseOnFirstToken() {
    std::lock_guard<std::mutex> lock(mu_);
    close_on_first_token_ = true;
  }
  // Holds the engine at the end of every step from now on (until Open).
  void CloseEveryStep() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  // While closed: lets the held engine run one more step; it is held again
  // at that step's end (WaitForHolds counts it).
  void ReleaseOneStep() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++epoch_;
    }
    cv_.notify_all();
  }
  // Waits until the engine has been held `n` times in all.
  bool WaitForHolds(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return held_ && holds_ >= n; });
  }
  // Waits until the engine thread is held.
  bool WaitUntilHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return held_; });
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = false;
      close_on_first_token_ = false;
    }
    cv_.notify_all();
  }
  std::vector<Finished> finished() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }

  void OnFirstToken(double) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (close_on_first_token_) closed_ = true;
  }
  void OnStep(const StepObservation&) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!closed_) return;
    held_ = true;
    ++holds_;
    const int64_t epoch = epoch_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_ || epoch_ != epoch; });
    held_ = false;
  }
  void OnRequestFinished(double, int prompt, int generated, FinishReason reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    finished_.push_back({prompt, generated, reason});
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool close_on_first_token_ = false;
  bool closed_ = false;
  bool held_ = false;
  int holds_ = 0;      // times the engine was held
  int64_t epoch_ = 0;  // ReleaseOneStep bumps it
  std::vector<Finished> finished_;
};

// A started, serving ServerApp over `model`.
inline std::unique_ptr<ServerApp> StartTestServerWith(
    LoadedModel model, const ServerOptions& options = TestServerOptions(),
    EngineObserver* observer = nullptr) {
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<ServerApp>> app = ServerApp::Start(options, log);
  EXPECT_TRUE(app.ok()) << app.status();
  if (!app.ok()) return nullptr;
  absl::Status s = (*app)->Serve(std::move(model), log, observer);
  EXPECT_TRUE(s.ok()) << s;
  return *std::move(app);
}

// A started, serving ServerApp over TinyByteModel.
inline std::unique_ptr<ServerApp> StartTestServer(
    const ServerOptions& options = TestServerOptions(), EngineObserver* observer = nullptr,
    int max_seq_len = 256) {
  return StartTestServerWith(TinyByteModel(max_seq_len), options, observer);
}

inline std::shared_ptr<grpc::Channel> Connect(const ServerApp& app) {
  return grpc::CreateChannel(app.address(), grpc::InsecureChannelCredentials());
}

inline std::unique_ptr<v1::Generation::Stub> NewStub(const ServerApp& app) {
  return v1::Generation::NewStub(Connect(app));
}

inline void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + ms);
}

inline v1::GenerateRequest GreedyTextRequest(const std::string& prompt, int max_tokens) {
  v1::GenerateRequest r;
  r.set_prompt(prompt);
  r.mutable_sampling()->set_temperature(0.0f);
  r.mutable_stopping()->set_max_tokens(max_tokens);
  r.mutable_stopping()->set_ignore_eos(true);
  return r;
}

// Unary Generate with a bounded deadline.
inline grpc::Status Generate(v1::Generation::Stub& stub, const v1::GenerateRequest& request,
                             v1::GenerateResponse* response) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  return stub.Generate(&ctx, request, response);
}

// GenerateStream, collecting every message.
inline grpc::Status Stream(v1::Generation::Stub& stub, const v1::GenerateRequest& request,
                           std::vector<v1::GenerateResponse>* messages) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  auto reader = stub.GenerateStream(&ctx, request);
  v1::GenerateResponse m;
  while (reader->Read(&m)) messages->push_back(m);
  return reader->Finish();
}

// The stream's messages joined into one whole-completion response.
inline v1::GenerateResponse Join(const std::vector<v1::GenerateResponse>& messages) {
  v1::GenerateResponse whole;
  for (v1::GenerateResponse m : messages) MergeResponse(std::move(m), &whole);
  return whole;
}

// grpc.health.v1.Health/Check for `service` (CheckHealth in
// client/health_check.h): 1 SERVING, 2 NOT_SERVING, 0 UNKNOWN; -1 on error.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& service);

}  // namespace gqa::testing
