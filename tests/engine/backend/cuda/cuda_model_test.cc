// Whole-model parity of the CUDA backend with the CPU backend:
//  - the serving engine (LlmEngine) gives the same greedy tokens on fp32
//    random checkpoints, through chunked prefill and mixed batches;
//  - LlamaModel's logits agree in fp32 (1e-4) and stay close in bf16/f16
//    (3e-2: bf16 activations through every layer) on a model whose
//    head_dim (64) takes the tensor-core attention kernels, for a step that
//    mixes a decode row with a prefill chunk over a cached prefix.
// Skipped where the CUDA runtime sees no device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "engine/backend/cuda/cuda_backend.h"
#include "engine/model/dummy_weights.h"
#include "engine/model/llama_model.h"
#include "engine/runner/kv_cache_storage.h"
#include "tests/engine/backend/cuda/cuda_test_util.h"
#include "tests/engine/runner/engine_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAreArray;

std::map<std::string, Completion> Generate(const ModelWeights& w, std::unique_ptr<Backend> backend,
                                           const std::vector<GenerationRequest>& requests) {
  EngineConfig config;
  config.max_num_seqs = 4;
  config.max_num_batched_tokens = 24;  // prompts arrive in chunks over cached prefixes
  absl::StatusOr<std::unique_ptr<LlmEngine>> engine =
      LlmEngine::Create(w, std::move(backend), config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  std::map<std::string, Completion> out = RunToCompletion(**engine, requests);
  EXPECT_TRUE((*engine)->model_config().n_layers > 0);
  return out;
}

class CudaEngineParityTest : public ::testing::TestWithParam<int> {};  // n_kv_heads of 8 heads

TEST_P(CudaEngineParityTest, SameGreedyTokensAsCpuInFp32) {
  GQA_REQUIRE_CUDA_DEVICE();
  const ModelConfig c = TinyConfig(GetParam(), /*tied=*/GetParam() == 2, /*bias=*/GetParam() == 4);
  const ModelWeights w = *MakeDummyWeights(c, DType::kF32, 31);
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 4; ++i) {
    GenerationRequest r = GreedyRequest(std::to_string(i), MakePrompt(5 + 17 * i, i), 20 + 5 * i);
    r.prompt_logprobs = true;
    requests.push_back(r);
  }
  std::map<std::string, Completion> cpu = Generate(w, MakeCpuBackend(2), requests);
  std::map<std::string, Completion> cuda = Generate(w, MakeTestCudaBackend(DType::kF32), requests);
  for (const GenerationRequest& r : requests) {
    const std::string& id = r.request_id;
    EXPECT_THAT(cuda[id].tokens, ElementsAreArray(cpu[id].tokens)) << id;
    ASSERT_EQ(cuda[id].prompt_logprobs.size(), cpu[id].prompt_logprobs.size());
    for (size_t i = 0; i < cpu[id].prompt_logprobs.size(); ++i) {
      EXPECT_NEAR(cuda[id].prompt_logprobs[i], cpu[id].prompt_logprobs[i], 1e-4) << id << " " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(KvHeads, CudaEngineParityTest, ::testing::Values(8, 4, 2, 1));

// ---- LlamaModel logits ----

// One step's index arrays on the host.
struct Step {
  std::vector<int32_t> tokens, positions, query_start{0}, context_lens, block_tables, logit_rows;
  std::vector<int64_t> slots;
  int max_query_len = 0, max_context_len = 0;
};

constexpr int kBlockSize = 16, kMaxBlocks = 8;

// Adds tokens [start, end) of `prompt` of the sequence owning blocks
// [first_block, first_block + kMaxBlocks); every row wants logits.
void AddSeq(Step& s, const std::vector<int32_t>& prompt, int start, int end, int first_block) {
  for (int pos = start; pos < end; ++pos) {
    s.logit_rows.push_back(static_cast<int32_t>(s.tokens.size()));
    s.tokens.push_back(prompt[pos]);
    s.positions.push_back(pos);
    s.slots.push_back(int64_t{first_block + pos / kBlockSize} * kBlockSize + pos % kBlockSize);
  }
  s.query_start.push_back(static_cast<int32_t>(s.tokens.size()));
  s.context_lens.push_back(end);
  for (int b = 0; b < kMaxBlocks; ++b) s.block_tables.push_back(first_block + b);
  s.max_query_len = std::max(s.max_query_len, end - start);
  s.max_context_len = std::max(s.max_context_len, end);
}

class ModelHarness {
 public:
  ModelHarness(const ModelWeights& w, std::unique_ptr<Backend> backend)
      : backend_(std::move(backend)), vocab_(w.config.vocab_size) {
    absl::StatusOr<std::unique_ptr<LlamaModel>> m = LlamaModel::Create(w, backend_.get(), 128, 128);
    absl::StatusOr<KvCacheStorage> kv =
        KvCacheStorage::Allocate(*backend_, w.config, kBlockSize, 4 * kMaxBlocks);
    EXPECT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(kv.ok()) << kv.status();
    if (m.ok() && kv.ok()) {
      model_ = std::move(*m);
      kv_ = std::move(*kv);
    }
  }
  // Runs one step; returns its logits [rows, vocab] as fp32 (NaN when the
  // harness could not be set up, so comparisons fail rather than crash).
  std::vector<float> Run(const Step& s) {
    std::vector<float> failed(s.logit_rows.size() * vocab_, kNaN);
    if (model_ == nullptr) return failed;
    std::vector<int32_t> ints;
    std::vector<size_t> at;
    for (const auto* v : {&s.tokens, &s.positions, &s.query_start, &s.context_lens, &s.block_tables,
                          &s.logit_rows}) {
      at.push_back(ints.size());
      ints.insert(ints.end(), v->begin(), v->end());
    }
    absl::StatusOr<DeviceBuffer> ints_buffer = backend_->Allocate(ints.size() * 4);
    absl::StatusOr<DeviceBuffer> slots_buffer = backend_->Allocate(s.slots.size() * 8);
    EXPECT_TRUE(ints_buffer.ok() && slots_buffer.ok()) << "device allocation failed";
    if (!ints_buffer.ok() || !slots_buffer.ok()) return failed;
    ints_ = std::move(*ints_buffer);
    slots_ = std::move(*slots_buffer);
    backend_->CopyToDevice(ints_.data(), ints.data(), ints.size() * 4);
    backend_->CopyToDevice(slots_.data(), s.slots.data(), s.slots.size() * 8);
    const auto* dev = static_cast<const int32_t*>(ints_.data());
    ForwardBatch fb;
    fb.token_ids = dev + at[0];
    fb.attn.num_seqs = static_cast<int>(s.context_lens.size());
    fb.attn.num_tokens = static_cast<int>(s.tokens.size());
    fb.attn.max_query_len = s.max_query_len;
    fb.attn.max_context_len = s.max_context_len;
    fb.attn.max_blocks_per_seq = kMaxBlocks;
    fb.attn.positions = dev + at[1];
    fb.attn.query_start = dev + at[2];
    fb.attn.context_lens = dev + at[3];
    fb.attn.block_tables = dev + at[4];
    fb.attn.slot_mapping = static_cast<const int64_t*>(slots_.data());
    fb.logit_rows = dev + at[5];
    fb.num_logit_rows = static_cast<int>(s.logit_rows.size());
    const Tensor logits = model_->Logits(model_->Forward(fb, kv_.layers()));
    std::vector<char> raw(logits.nbytes());
    backend_->CopyToHost(raw.data(), logits.data, raw.size());
    std::vector<float> out(logits.numel());
    ConvertToF32(logits.dtype, raw.data(), out.data(), out.size());
    EXPECT_TRUE(backend_->status().ok()) << backend_->status();
    return out;
  }

 private:
  std::unique_ptr<Backend> backend_;
  int64_t vocab_;
  std::unique_ptr<LlamaModel> model_;
  KvCacheStorage kv_;
  DeviceBuffer ints_, slots_;
};

class CudaModelLogitsTest : public ::testing::TestWithParam<DType> {};

TEST_P(CudaModelLogitsTest, LogitsCloseToCpuThroughChunkedPrefillAndDecode) {
  GQA_REQUIRE_CUDA_DEVICE();
  const DType dtype = GetParam();
  ModelConfig c = TinyConfig(2, false, true);  // GQA-4 with q/k/v biases
  c.dim = 512;
  c.hidden_dim = 704;
  c.head_dim = 64;  // the tensor-core kernels' shape
  c.vocab_size = 301;
  // Weights stored in the tested dtype, so both backends hold the same numbers.
  const ModelWeights w = *MakeDummyWeights(c, dtype, 41);
  const std::vector<int32_t> a = MakePrompt(40, 1, c.vocab_size),
                             b = MakePrompt(25, 2, c.vocab_size);
  Step s1, s2;
  AddSeq(s1, a, 0, 40, 0);            // A: whole prompt
  AddSeq(s1, b, 0, 16, kMaxBlocks);   // B: first chunk
  AddSeq(s2, a, 40 - 1, 40, 0);       // A: decode row (re-feeds its last token at pos 39)
  AddSeq(s2, b, 16, 25, kMaxBlocks);  // B: second chunk over its cached prefix
  ModelHarness cpu(w, MakeCpuBackend(2));
  ModelHarness cuda(w, MakeTestCudaBackend(dtype));
  const double tolerance = dtype == DType::kF32 ? 1e-4 : 3e-2;
  for (const Step* s : {&s1, &s2}) {
    const std::vector<float> ref = cpu.Run(*s), got = cuda.Run(*s);
    ASSERT_EQ(got.size(), ref.size());
    EXPECT_FALSE(HasNaN(got));
    EXPECT_LT(RelativeError(got, ToDouble(ref)), tolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CudaModelLogitsTest,
                         ::testing::Values(DType::kF32, DType::kBF16, DType::kF16), DTypeParamName);

}  // namespace
}  // namespace gqa::testing
