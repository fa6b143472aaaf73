#include "server/server_options.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/runner/backend_flags.h"
#include "flags/flag_parser.h"

namespace gqa {
namespace {

constexpr char kUsage[] =
    "usage: gqa-server [--model PATH] [--tokenizer FILE] [--chat-template FILE]\n"
    "                  [--host ADDR] [--port 50051]\n"
    "                  [--metrics-port 9400] [--max-num-batched-tokens N] [--max-num-seqs N]\n"
    "                  [--block-size N] [--kv-cache-memory BYTES] [--max-queued-requests N]\n"
    "                  [--max-queued-tokens N] [--drain-timeout SECONDS] [--threads N]\n"
    "                  [--backend auto|cpu|cuda] [--dtype auto|f32|f16|bf16]\n"
    "                  [--kv-cache-dtype auto|f32|bf16]\n"
    "                  [--gpu-memory-utilization 0.9] [--metrics-host ADDR]\n"
    "                  [--load-format dummy --preset NAME] [--no-enable-prefix-caching]\n"
    "                  [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n"
    "                  [--api-key-file FILE] [--max-message-bytes 4MiB]\n"
    "                  [--max-prompt-bytes 1MiB] [--max-prompt-tokens N]\n"
    "                  [--max-concurrent-streams 1024]\n"
    "                  [--http-port 8000] [--http-host ADDR] [--http-threads N]\n"
    "                  [--served-model-name NAME]\n"
    "Serves gqa.v1.Generation over gRPC (plus grpc.health.v1 and reflection), the\n"
    "OpenAI API over HTTP (/v1/completions, /v1/chat/completions, /v1/models, /health) and\n"
    "Prometheus metrics at http://HOST:METRICS_PORT/metrics. Without --model it serves\n"
    "the built-in demo model (scripts/start.sh passes the default SmolLM2 GGUF). SIGTERM/SIGINT "
    "drain: new requests are refused, running\n"
    "ones finish (up to --drain-timeout), then the process exits 0.";

}  // namespace

std::string ServedModelName(const ServerOptions& o, const std::string& config_name) {
  if (!o.served_model_name.empty()) return o.served_model_name;
  if (!o.model.model.empty()) return o.model.model;
  return config_name;
}

absl::StatusOr<ServerOptions> ParseServerArgs(int argc, const char* const* argv) {
  ServerOptions o;
  o.http_port = kDefaultHttpPort;
  std::string kv_memory;
  float drain_timeout = static_cast<float>(o.drain_timeout_seconds);
  float step_timeout = static_cast<float>(o.step_timeout_seconds);
  int max_queued_tokens = 0;
  float gpu_memory_utilization = static_cast<float>(o.backend.gpu_memory_utilization);
  FlagParser p(kUsage);
  p.AddString("model", &o.model.model,
              "HF model directory, GGUF file or llama2.c .bin (default: demo model)");
  p.AddString("tokenizer", &o.model.tokenizer, "llama2.c tokenizer.bin, tokenizer.json or HF dir");
  p.AddString("chat-template", &o.model.chat_template,
              "Jinja2 chat template file or HF directory (default: the model's own)");
  p.AddString("load-format", &o.model.load_format, "auto (default) or dummy (random weights)");
  p.AddString("preset", &o.model.preset, "dummy weights' shape: " + PresetList());
  AddBackendFlags(p, &o.backend);
  p.AddFloat("gpu-memory-utilization", &gpu_memory_utilization,
             "CUDA: share of GPU memory for weights, workspace and KV cache (default 0.9)");
  p.AddString("host", &o.host, "address to listen on (default 0.0.0.0)");
  p.AddInt("port", &o.port, "gRPC port (default 50051; 0 = any free port)");
  p.AddInt("metrics-port", &o.metrics_port,
           "Prometheus /metrics port (default 9400; 0 = any free port; -1 = off)");
  p.AddString("metrics-host", &o.metrics_host,
              "address /metrics listens on (default: the same as --host)");
  SecurityFlags security(p, &o.security);
  p.AddInt("http-port", &o.http_port,
           "OpenAI-compatible HTTP API port (default 8000; 0 = any free port; -1 = off)");
  p.AddString("http-host", &o.http_host, "address the HTTP API listens on (default: --host)");
  p.AddInt("http-threads", &o.http_threads,
           "HTTP connections served at once, each on a thread (default 0: max-num-seqs + "
           "max-queued-requests + 16)");
  p.AddString("served-model-name", &o.served_model_name,
              "the model's name in the HTTP API (default: --model as given)");
  p.AddInt("max-num-batched-tokens", &o.engine.max_num_batched_tokens,
           "tokens per engine step; longer prompts are chunked (default 512)");
  p.AddInt("max-num-seqs", &o.engine.max_num_seqs, "sequences per engine step (default 64)");
  p.AddInt("block-size", &o.engine.block_size, "KV cache block size in tokens (default 16)");
  p.AddInt("max-model-len", &o.engine.max_model_len,
           "context length per request (default: the model's)");
  p.AddString("kv-cache-memory", &kv_memory,
              "KV cache budget, e.g. 8GiB; the pool never exceeds max-num-seqs full contexts "
              "(default: 2GiB on the CPU, what --gpu-memory-utilization leaves on CUDA; "
              "0: no cap on the CPU, the CUDA plan on CUDA)");
  p.AddInt("max-queued-requests", &o.queue.max_queued_requests,
           "requests waiting to start before RESOURCE_EXHAUSTED (default 256; 0 = no limit)");
  p.AddInt("max-queued-tokens", &max_queued_tokens,
           "prompt tokens waiting to start before RESOURCE_EXHAUSTED (default 0 = no limit)");
  p.AddFloat("drain-timeout", &drain_timeout,
             "seconds running requests get to finish after SIGTERM (default 30)");
  p.AddFloat("step-timeout-seconds", &step_timeout,
             "an engine step running longer is a hung device: health NOT_SERVING, exit 3 for "
             "a restart (default 60; 0 = off)");
  std::optional<uint64_t> seed;
  p.AddUint64("seed", &seed, "base seed of requests that set none (default 0)");
  p.AddOnOff("enable-prefix-caching", &o.engine.enable_prefix_caching,
             "reuse the KV blocks of shared prompt prefixes (the default)",
             "compute every prompt in full");
  GQA_RETURN_IF_ERROR(p.Parse(argc, argv));
  GQA_RETURN_IF_ERROR(security.Finish());
  o.help = p.help_requested();
  o.help_text = p.Help();
  if (!p.positional().empty()) {
    return absl::InvalidArgumentError("unexpected argument '" + p.positional()[0] + "'");
  }
  if (!kv_memory.empty()) {
    absl::StatusOr<size_t> bytes = ParseByteSize(kv_memory);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError("--kv-cache-memory: " +
                                        std::string(bytes.status().message()));
    }
    o.engine.kv_cache_bytes = *bytes;
    o.kv_cache_memory_set = true;
  }
  if (!(gpu_memory_utilization > 0 && gpu_memory_utilization <= 1)) {
    return absl::InvalidArgumentError("--gpu-memory-utilization must be in (0, 1]");
  }
  o.backend.gpu_memory_utilization = gpu_memory_utilization;
  o.queue.max_queued_tokens = max_queued_tokens;
  o.engine.seed = seed.value_or(0);
  o.drain_timeout_seconds = drain_timeout;
  o.step_timeout_seconds = step_timeout;
  auto positive = [](int v, const char* flag) {
    return v > 0 ? absl::OkStatus()
                 : absl::InvalidArgumentError(absl::StrCat("--", flag, " must be > 0, got ", v));
  };
  GQA_RETURN_IF_ERROR(positive(o.engine.max_num_batched_tokens, "max-num-batched-tokens"));
  GQA_RETURN_IF_ERROR(positive(o.engine.max_num_seqs, "max-num-seqs"));
  GQA_RETURN_IF_ERROR(positive(o.engine.block_size, "block-size"));
  if (o.port < 0 || o.port > 65535) return absl::InvalidArgumentError("--port must be in 0..65535");
  if (o.metrics_port < -1 || o.metrics_port > 65535) {
    return absl::InvalidArgumentError("--metrics-port must be in -1..65535");
  }
  if (o.http_port < -1 || o.http_port > 65535) {
    return absl::InvalidArgumentError("--http-port must be in -1..65535");
  }
  if (o.http_threads < 0) return absl::InvalidArgumentError("--http-threads must be >= 0");
  if (o.queue.max_queued_requests < 0) {
    return absl::InvalidArgumentError("--max-queued-requests must be >= 0");
  }
  if (max_queued_tokens < 0) return absl::InvalidArgumentError("--max-queued-tokens must be >= 0");
  if (!(drain_timeout >= 0)) return absl::InvalidArgumentError("--drain-timeout must be >= 0");
  if (!(step_timeout >= 0)) {
    return absl::InvalidArgumentError("--step-timeout-seconds must be >= 0");
  }
  GQA_RETURN_IF_ERROR(ValidateBackendFlags(o.backend));
  return o;
}

}  // namespace gqa
