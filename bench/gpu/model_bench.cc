// Whole-model GPU benchmarks on dummy bf16 weights: decode steps, a 2k
// prefill, and the MHA / GQA / MQA comparison. LlamaModel is driven
// directly (no scheduler), so the numbers are the model step's.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/gpu/bench_layout.h"
#include "bench/gpu/gpu_benches.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "engine/common/status_macros.h"
#include "engine/kv_cache/kv_memory_plan.h"
#include "engine/model/dummy_weights.h"
#include "engine/model/llama_model.h"
#include "engine/runner/kv_cache_storage.h"

namespace gqa::bench {
namespace {

constexpr DType kDt = DType::kBF16;

struct LoadedModel {
  std::unique_ptr<LlamaModel> model;
  KvCacheStorage kv;
  double load_seconds = 0;
};

absl::StatusOr<LoadedModel> Load(Backend& backend, const ModelConfig& config, int max_tokens,
                                 int max_logit_rows) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel m;
  {
    GQA_ASSIGN_OR_RETURN(const ModelWeights w, MakeDummyWeights(config, kDt, 1));
    GQA_ASSIGN_OR_RETURN(m.model, LlamaModel::Create(w, &backend, max_tokens, max_logit_rows));
  }  // host weights released
  backend.Synchronize();
  m.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

// KV blocks that fit now (after the model and its workspace), per the plan;
// num_blocks 0 when not one fits (the caller reports shapes as not fitting).
absl::StatusOr<KvMemoryPlan> PlanNow(const ModelConfig& c, const ModelBenchOptions& o) {
  GQA_ASSIGN_OR_RETURN(const CudaDeviceInfo info, GetCudaDeviceInfo(0));
  KvMemoryPlanInputs in;
  in.total_bytes = info.total_bytes;
  in.free_bytes = info.free_bytes;
  in.gpu_memory_utilization = o.gpu_memory_utilization;
  in.workspace_bytes = size_t{1} << 30;  // decode scratch, cuBLASLt, index arrays, slack
  in.kv_bytes_per_block = KvCacheStorage::BytesPerBlock(c, o.block_size, kDt);
  in.block_size = o.block_size;
  absl::StatusOr<KvMemoryPlan> plan = PlanKvCache(in);
  if (absl::IsResourceExhausted(plan.status())) return KvMemoryPlan{};
  return plan;
}

absl::Status AllocateKv(Backend& backend, const ModelConfig& c, int block_size, int64_t blocks,
                        KvCacheStorage& kv) {
  GQA_ASSIGN_OR_RETURN(kv,
                       KvCacheStorage::Allocate(backend, c, block_size, static_cast<int>(blocks)));
  // Random K/V, so attention does not run on zeros.
  return FillRandomOnDevice(backend, kv.layers()[0].k.data, kv.total_bytes() / 2, kDt, 9, -1.0f,
                            1.0f);
}

// Weight bytes one decode step reads: all but the embedding table (only
// `batch` rows of it), unless the classifier is tied to it.
double WeightBytesRead(const LlamaModel& m) {
  const ModelConfig& c = m.config();
  const double embed = double(c.vocab_size) * c.dim * DTypeSize(kDt);
  return double(m.weight_bytes()) - (c.tie_word_embeddings ? 0.0 : embed);
}

struct DecodeTiming {
  double gpu_ms = 0, wall_ms = 0;
};

// Device time of one greedy decode step for `batch` rows at context `ctx`:
// Forward + Logits + ArgMaxRows (what the engine runs for greedy rows), and
// the wall time of a synchronous loop that also builds and uploads the index
// arrays and downloads the token ids and logprobs each step, as ModelRunner.
absl::StatusOr<DecodeTiming> TimeDecode(Backend& backend, LoadedModel& m, int batch, int ctx,
                                        int block_size, int reps) {
  const int64_t blocks_per_seq = (ctx + block_size - 1) / block_size;
  const std::vector<int32_t> ids =
      ShuffledBlocks(m.kv.num_blocks(), batch * blocks_per_seq, 7 + batch + ctx);
  const int vocab = m.model->config().vocab_size;
  const BatchLayout layout = MakeBatchLayout(batch, 1, ctx, block_size, ids, vocab);
  GQA_ASSIGN_OR_RETURN(DeviceBatch db, UploadBatch(backend, layout));
  // Greedy results: tokens [batch] i32 | logprobs [batch] f32.
  GQA_ASSIGN_OR_RETURN(DeviceBuffer argmax, backend.Allocate(size_t(batch) * 8));
  auto* d_tokens = static_cast<int32_t*>(argmax.data());
  auto* d_logprobs = reinterpret_cast<float*>(d_tokens + batch);
  auto step = [&] {
    backend.ArgMaxRows(m.model->Logits(m.model->Forward(db.forward, m.kv.layers())), d_tokens,
                       d_logprobs);
  };
  DecodeTiming t;
  GQA_ASSIGN_OR_RETURN(t.gpu_ms, TimeOnDeviceMs(backend, step, 2, reps));

  std::vector<int32_t> next(batch);
  std::vector<float> logprobs(batch);
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    const BatchLayout l = MakeBatchLayout(batch, 1, ctx, block_size, ids, vocab);
    std::vector<int32_t> ints;
    for (const auto* v : {&l.tokens, &l.positions, &l.query_start, &l.context_lens, &l.block_tables,
                          &l.logit_rows}) {
      ints.insert(ints.end(), v->begin(), v->end());
    }
    backend.CopyToDevice(db.ints.data(), ints.data(), ints.size() * 4);
    backend.CopyToDevice(db.slots.data(), l.slots.data(), l.slots.size() * 8);
    step();
    backend.CopyToHost(next.data(), d_tokens, next.size() * sizeof(int32_t));
    backend.CopyToHost(logprobs.data(), d_logprobs, logprobs.size() * sizeof(float));
  }
  t.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      reps;
  GQA_RETURN_IF_ERROR(backend.status());
  return t;
}

absl::Status DecodeSteps(Backend& backend, LoadedModel& m, const ModelBenchOptions& o,
                         const Ceilings& ceilings, std::FILE* csv) {
  const ModelConfig& config = m.model->config();
  GQA_ASSIGN_OR_RETURN(const KvMemoryPlan plan, PlanNow(config, o));
  int64_t most_blocks = 0;  // the largest shape that fits sets the pool size
  for (int b : o.batches)
    for (int ctx : o.contexts) {
      const int64_t need = int64_t{b} * ((ctx + o.block_size - 1) / o.block_size);
      if (need <= plan.num_blocks) most_blocks = std::max(most_blocks, need);
    }
  GQA_RETURN_IF_ERROR(
      AllocateKv(backend, config, o.block_size, std::max<int64_t>(most_blocks, 1), m.kv));
  const double kv_per_token = double(config.KvBytesPerToken(kDt));
  std::printf(
      "%s: %.2f GB of weights (load %.0f s); KV pool %lld blocks of %d tokens (%lld would fit)\n\n",
      config.name.c_str(), m.model->weight_bytes() / 1e9, m.load_seconds,
      static_cast<long long>(m.kv.num_blocks()), o.block_size,
      static_cast<long long>(plan.num_blocks));
  std::fprintf(csv,
               "model,batch,context,gpu_ms,tokens_per_s,bytes_GB,GBs,mbu,wall_ms,host_gap_pct\n");
  std::printf(
      "| batch | context | step (ms) | tokens/s | GB read | MBU | wall (ms) | host gap |\n"
      "|---|---|---|---|---|---|---|---|\n");
  for (int ctx : o.contexts) {
    for (int batch : o.batches) {
      const int64_t need = int64_t{batch} * ((ctx + o.block_size - 1) / o.block_size);
      if (need > m.kv.num_blocks()) {
        std::fprintf(csv, "%s,%d,%d,,,,,,,\n", config.name.c_str(), batch, ctx);
        std::printf("| %d | %d | KV does not fit (%.0f GB) | | | | | |\n", batch, ctx,
                    batch * ctx * kv_per_token / 1e9);
        continue;
      }
      GQA_ASSIGN_OR_RETURN(const DecodeTiming t,
                           TimeDecode(backend, m, batch, ctx, o.block_size, o.reps));
      const double bytes = WeightBytesRead(*m.model) + double(batch) * ctx * kv_per_token;
      const double gbs = bytes / (t.gpu_ms * 1e-3) / 1e9;
      const double gap = 100.0 * (t.wall_ms - t.gpu_ms) / t.gpu_ms;
      std::fprintf(csv, "%s,%d,%d,%.3f,%.1f,%.3f,%.1f,%.3f,%.3f,%.1f\n", config.name.c_str(), batch,
                   ctx, t.gpu_ms, batch / (t.gpu_ms * 1e-3), bytes / 1e9, gbs,
                   gbs / ceilings.copy_gbs, t.wall_ms, gap);
      std::printf("| %d | %d | %.2f | %.0f | %.2f | %.0f%% | %.2f | %.0f%% |\n", batch, ctx,
                  t.gpu_ms, batch / (t.gpu_ms * 1e-3), bytes / 1e9, 100 * gbs / ceilings.copy_gbs,
                  t.wall_ms, gap);
      std::fflush(csv);
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  return backend.status();
}

absl::Status Prefill(Backend& backend, LoadedModel& m, const ModelBenchOptions& o,
                     const Ceilings& ceilings, std::FILE* csv) {
  const ModelConfig& c = m.model->config();
  const int t = o.prompt_len;
  m.kv = KvCacheStorage();  // the decode pool goes first
  const int64_t blocks = (t + o.block_size - 1) / o.block_size;
  GQA_RETURN_IF_ERROR(AllocateKv(backend, c, o.block_size, blocks, m.kv));
  const std::vector<int32_t> ids = ShuffledBlocks(blocks, blocks, 3);
  GQA_ASSIGN_OR_RETURN(DeviceBatch db, UploadBatch(backend, MakeBatchLayout(1, t, t, o.block_size,
                                                                            ids, c.vocab_size)));
  GQA_ASSIGN_OR_RETURN(
      const double ms,
      TimeOnDeviceMs(
          backend, [&] { m.model->Logits(m.model->Forward(db.forward, m.kv.layers())); }, 1,
          std::max(3, o.reps / 2)));
  // FLOPs: every layer's matrices for t rows, causal attention (QK^T and PV
  // over t^2 / 2 pairs), and the classifier for the one sampled row.
  const double layer_params = double(c.dim) * (c.q_dim() + 2 * c.kv_dim()) +
                              double(c.q_dim()) * c.dim + 3.0 * c.dim * c.hidden_dim;
  const double flops = 2.0 * t * layer_params * c.n_layers +
                       2.0 * 2.0 * (double(t) * t / 2) * c.head_dim * c.n_heads * c.n_layers +
                       2.0 * c.dim * c.vocab_size;
  const double tflops = flops / (ms * 1e-3) / 1e12;
  std::fprintf(csv, "model,prompt,ms,tokens_per_s,TFLOPs,mfu\n%s,%d,%.3f,%.0f,%.1f,%.3f\n",
               c.name.c_str(), t, ms, t / (ms * 1e-3), tflops, tflops / ceilings.gemm_tflops);
  std::printf(
      "| model | prompt | time (ms) | tokens/s | TFLOP/s | MFU (of measured GEMM) |\n"
      "|---|---|---|---|---|---|\n| %s | %d | %.1f | %.0f | %.0f | %.0f%% |\n\n",
      c.name.c_str(), t, ms, t / (ms * 1e-3), tflops, 100 * tflops / ceilings.gemm_tflops);
  return backend.status();
}

}  // namespace

absl::Status RunModelBench(Backend& backend, const ModelConfig& config, const ModelBenchOptions& o,
                           const Ceilings& ceilings, std::FILE* decode_csv,
                           std::FILE* prefill_csv) {
  const int max_batch = *std::max_element(o.batches.begin(), o.batches.end());
  GQA_ASSIGN_OR_RETURN(LoadedModel m,
                       Load(backend, config, std::max(max_batch, o.prompt_len), max_batch));
  GQA_RETURN_IF_ERROR(DecodeSteps(backend, m, o, ceilings, decode_csv));
  return Prefill(backend, m, o, ceilings, prefill_csv);
}

absl::Status RunGqaBench(Backend& backend, const ModelConfig& base, const ModelBenchOptions& o,
                         const Ceilings& ceilings, std::FILE* csv) {
  const int ctx = o.gqa_context;
  const int64_t blocks_per_seq = (ctx + o.block_size - 1) / o.block_size;
  std::fprintf(
      csv,
      "kv_heads,kv_bytes_per_token,max_batch,batch,step_ms,tokens_per_s,ms_per_token_per_seq\n");
  std::printf(
      "%s shape, context %d: largest batch that fits and decode speed\n\n"
      "| KV heads | KV/token | max batch | batch | step (ms) | tokens/s | ms/token/seq |\n"
      "|---|---|---|---|---|---|---|\n",
      base.name.c_str(), ctx);
  for (int kv_heads : o.gqa_kv_heads) {
    ModelConfig c = base;
    c.n_kv_heads = kv_heads;
    c.name = absl::StrFormat("%s-kv%d", base.name, kv_heads);
    GQA_ASSIGN_OR_RETURN(LoadedModel m, Load(backend, c, o.gqa_max_batch, o.gqa_max_batch));
    GQA_ASSIGN_OR_RETURN(const KvMemoryPlan plan, PlanNow(c, o));
    const int64_t max_batch = plan.num_blocks / blocks_per_seq;
    const int64_t run_batch = std::min<int64_t>(max_batch, o.gqa_max_batch);
    if (run_batch < 1) {
      std::fprintf(csv, "%d,%zu,0,0,,,\n", kv_heads, c.KvBytesPerToken(kDt));
      std::printf("| %d | %zu KiB | 0 (not one sequence fits) | | | | |\n", kv_heads,
                  c.KvBytesPerToken(kDt) >> 10);
      continue;
    }
    GQA_RETURN_IF_ERROR(AllocateKv(backend, c, o.block_size, run_batch * blocks_per_seq, m.kv));
    for (int64_t batch : {std::min<int64_t>(16, run_batch), run_batch}) {
      GQA_ASSIGN_OR_RETURN(const DecodeTiming t, TimeDecode(backend, m, static_cast<int>(batch),
                                                            ctx, o.block_size, o.reps));
      const double tps = batch / (t.gpu_ms * 1e-3);
      std::fprintf(csv, "%d,%zu,%lld,%lld,%.3f,%.1f,%.4f\n", kv_heads, c.KvBytesPerToken(kDt),
                   static_cast<long long>(max_batch), static_cast<long long>(batch), t.gpu_ms, tps,
                   t.gpu_ms / batch);
      std::printf("| %d | %zu KiB | %lld | %lld | %.2f | %.0f | %.3f |\n", kv_heads,
                  c.KvBytesPerToken(kDt) >> 10, static_cast<long long>(max_batch),
                  static_cast<long long>(batch), t.gpu_ms, tps, t.gpu_ms / batch);
      std::fflush(csv);
      std::fflush(stdout);
      if (batch == run_batch) break;
    }
  }
  std::printf("\n");
  return backend.status();
}

}  // namespace gqa::bench
