// Ceilings (copy bandwidth, bf16 GEMM rate) and the decode attention kernel
// alone over batch x context x KV heads.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "bench/gpu/bench_layout.h"
#include "bench/gpu/gpu_benches.h"
#include "engine/backend/cuda/cuda_backend.h"
#include "engine/common/status_macros.h"

namespace gqa::bench {

absl::Status MeasureCeilings(Backend& backend, Ceilings& out, std::FILE* csv) {
  GQA_ASSIGN_OR_RETURN(out.copy_gbs, MeasureCopyBandwidthGBs(backend, size_t{2} << 30, 20));
  const int64_t n = 8192;
  const DType dt = DType::kBF16;
  GQA_ASSIGN_OR_RETURN(DeviceBuffer a, backend.Allocate(n * n * 2));
  GQA_ASSIGN_OR_RETURN(DeviceBuffer b, backend.Allocate(n * n * 2));
  GQA_ASSIGN_OR_RETURN(DeviceBuffer c, backend.Allocate(n * n * 2));
  // Random operands: a product of zeros runs faster than real data.
  GQA_RETURN_IF_ERROR(FillRandomOnDevice(backend, a.data(), n * n, dt, 1, -1.0f, 1.0f));
  GQA_RETURN_IF_ERROR(FillRandomOnDevice(backend, b.data(), n * n, dt, 2, -1.0f, 1.0f));
  const Tensor x = Tensor::Make(a.data(), dt, {n, n}), w = Tensor::Make(b.data(), dt, {n, n});
  const Tensor y = Tensor::Make(c.data(), dt, {n, n});
  GQA_ASSIGN_OR_RETURN(const double ms,
                       TimeOnDeviceMs(
                           backend, [&] { backend.Gemm(x, w, Tensor{}, y); }, 3, 10));
  out.gemm_tflops = 2.0 * n * n * n / (ms * 1e-3) / 1e12;
  std::fprintf(csv, "ceiling,value\ncopy_GBs,%.1f\ngemm_bf16_TFLOPs,%.1f\n", out.copy_gbs,
               out.gemm_tflops);
  std::printf(
      "| ceiling | measured |\n|---|---|\n| D2D copy (read + write) | %.0f GB/s |\n"
      "| bf16 GEMM 8192^3 (cuBLASLt) | %.0f TFLOP/s |\n\n",
      out.copy_gbs, out.gemm_tflops);
  return backend.status();
}

absl::Status RunAttentionBench(Backend& backend, const AttentionBenchOptions& o,
                               const Ceilings& ceilings, std::FILE* csv) {
  GQA_ASSIGN_OR_RETURN(const CudaDeviceInfo info, GetCudaDeviceInfo(0));
  const DType dt = DType::kBF16;
  const int d = o.head_dim, bs = o.block_size;
  // One K and one V pool, reinterpreted per KV head count, filled once.
  const size_t pool_bytes =
      static_cast<size_t>(static_cast<double>(info.free_bytes) * o.kv_budget_fraction / 2) &
      ~size_t{4095};
  GQA_ASSIGN_OR_RETURN(DeviceBuffer k_pool, backend.Allocate(pool_bytes));
  GQA_ASSIGN_OR_RETURN(DeviceBuffer v_pool, backend.Allocate(pool_bytes));
  GQA_RETURN_IF_ERROR(
      FillRandomOnDevice(backend, k_pool.data(), pool_bytes / 2, dt, 3, -1.0f, 1.0f));
  GQA_RETURN_IF_ERROR(
      FillRandomOnDevice(backend, v_pool.data(), pool_bytes / 2, dt, 4, -1.0f, 1.0f));

  std::fprintf(csv, "kv_heads,batch,context,time_us,kv_bytes,GBs,frac_of_copy,sets\n");
  std::printf(
      "| KV heads | batch | context | time (us) | KV GB/s | %% of copy BW "
      "|\n|---|---|---|---|---|---|\n");
  for (int kv_heads : o.kv_heads) {
    const size_t block_bytes = size_t(kv_heads) * bs * d * 2;  // one of K, V
    const int64_t pool_blocks = static_cast<int64_t>(pool_bytes / block_bytes);
    for (int batch : o.batches) {
      for (int ctx : o.contexts) {
        const int64_t blocks_per_seq = (ctx + bs - 1) / bs;
        const int64_t need = int64_t{batch} * blocks_per_seq;
        const double kv_bytes = 2.0 * batch * ctx * kv_heads * d * 2;
        if (need > pool_blocks) {
          std::fprintf(csv, "%d,%d,%d,,%.0f,,,0\n", kv_heads, batch, ctx, kv_bytes);
          std::printf("| %d | %d | %d | does not fit | | |\n", kv_heads, batch, ctx);
          continue;
        }
        // Several block sets, so repeated runs do not read the same bytes
        // out of L2: together at least 4x the L2 size where they fit.
        const int64_t sets =
            std::clamp<int64_t>(static_cast<int64_t>(std::ceil(4.0 * info.l2_bytes / kv_bytes)), 1,
                                std::min<int64_t>(16, pool_blocks / need));
        const std::vector<int32_t> ids = ShuffledBlocks(pool_blocks, sets * need, 5 + batch + ctx);
        std::vector<DeviceBatch> batches;
        for (int64_t s = 0; s < sets; ++s) {
          const std::vector<int32_t> set_ids(ids.begin() + s * need, ids.begin() + (s + 1) * need);
          GQA_ASSIGN_OR_RETURN(
              DeviceBatch db,
              UploadBatch(backend, MakeBatchLayout(batch, 1, ctx, bs, set_ids, 1000)));
          batches.push_back(std::move(db));
        }
        const int64_t qkv_cols = int64_t{o.n_heads + 2 * kv_heads} * d,
                      q_cols = int64_t{o.n_heads} * d;
        GQA_ASSIGN_OR_RETURN(DeviceBuffer qkv, backend.Allocate(batch * qkv_cols * 2));
        GQA_ASSIGN_OR_RETURN(DeviceBuffer out, backend.Allocate(batch * q_cols * 2));
        GQA_RETURN_IF_ERROR(
            FillRandomOnDevice(backend, qkv.data(), batch * qkv_cols, dt, 6, -2.0f, 2.0f));
        const Tensor q = Tensor::Make(qkv.data(), dt, {batch, qkv_cols}).Cols(0, q_cols);
        const Tensor o_t = Tensor::Make(out.data(), dt, {batch, q_cols});
        KvCacheLayer kv;
        kv.k = Tensor::Make(k_pool.data(), dt, {pool_blocks, kv_heads, bs, d});
        kv.v = Tensor::Make(v_pool.data(), dt, {pool_blocks, kv_heads, bs, d});
        const AttentionShape shape{o.n_heads, kv_heads, d};
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        int64_t turn = 0;
        GQA_ASSIGN_OR_RETURN(const double ms, TimeOnDeviceMs(
                                                  backend,
                                                  [&] {
                                                    backend.PagedAttention(
                                                        q, kv, batches[turn++ % sets].forward.attn,
                                                        shape, scale, o_t);
                                                  },
                                                  3, o.reps));
        const double gbs = kv_bytes / (ms * 1e-3) / 1e9;
        std::fprintf(csv, "%d,%d,%d,%.2f,%.0f,%.1f,%.3f,%lld\n", kv_heads, batch, ctx, ms * 1e3,
                     kv_bytes, gbs, gbs / ceilings.copy_gbs, static_cast<long long>(sets));
        std::printf("| %d | %d | %d | %.1f | %.0f | %.0f%% |\n", kv_heads, batch, ctx, ms * 1e3,
                    gbs, 100 * gbs / ceilings.copy_gbs);
        std::fflush(csv);
        std::fflush(stdout);
      }
    }
  }
  std::printf("\n");
  return backend.status();
}

}  // namespace gqa::bench
