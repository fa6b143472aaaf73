// Request validation: arbitrary bytes decoded as a gqa.v1.GenerateRequest,
// then ValidateGenerateRequest (the server's checks, proto -> engine request
// conversion, tokenization, the chat template, Engine::Validate) against a
// tiny in-process model with a byte tokenizer and ChatML: once with the
// tokenizer and template, once without either. The engine is created once and
// never started: validation only reads its configuration.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "engine/backend/cpu/cpu_backend.h"
#include "engine/model/dummy_weights.h"
#include "engine/runner/chat_setup.h"
#include "engine/runner/engine.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "google/protobuf/stubs/logging.h"
#include "gqa/v1/generation.pb.h"
#include "server/request_validation.h"

namespace {

struct Fixture {
  gqa::ModelWeights weights;
  std::unique_ptr<gqa::Engine> engine;
  gqa::ByteTokenizer tokenizer;
  std::unique_ptr<gqa::ModelChatTemplate> chat_template;
};

// The server tests' tiny model: GQA-4, 2 layers, dim 64, context 256, with a
// KV cache of 8 blocks of 16 tokens (so RESOURCE_EXHAUSTED is reachable).
Fixture* MakeFixture() {
  // Protobuf logs every string field with invalid UTF-8 it refuses to parse:
  // a line per input, which would slow the fuzzer down to the terminal's pace.
  google::protobuf::SetLogHandler(nullptr);
  auto* f = new Fixture();
  gqa::ModelConfig c;
  c.name = "fuzz-tiny";
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = 2;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.vocab_size = gqa::ByteTokenizer::kVocabSize;
  c.max_seq_len = 256;
  c.eos_token_ids = {gqa::ByteTokenizer::kEosId};
  auto weights = gqa::MakeDummyWeights(c, gqa::DType::kF32, /*seed=*/1);
  if (!weights.ok()) std::abort();
  f->weights = *std::move(weights);
  gqa::EngineConfig config;
  config.max_num_seqs = 4;
  config.max_num_batched_tokens = 64;
  config.num_kv_blocks = 8;
  auto engine = gqa::Engine::Create(f->weights, std::make_unique<gqa::CpuBackend>(1), config);
  if (!engine.ok()) std::abort();
  f->engine = *std::move(engine);
  auto chat = gqa::ModelChatTemplate::Create(gqa::kChatMlTemplate, "ChatML", &f->tokenizer);
  if (!chat.ok()) std::abort();
  f->chat_template = *std::move(chat);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = MakeFixture();
  gqa::v1::GenerateRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)gqa::ValidateGenerateRequest(request, *fixture->engine, &fixture->tokenizer,
                                     fixture->chat_template.get());
  (void)gqa::ValidateGenerateRequest(request, *fixture->engine, nullptr, nullptr);
  return 0;
}
