// ServerOptions: everything gqa-server is told on its command line, and the
// parser that fills it (FlagParser: errors name the flag).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "engine/runner/backend_setup.h"
#include "engine/runner/engine.h"
#include "engine/runner/model_setup.h"
#include "engine/serving/request_queue.h"
#include "flags/byte_size.h"  // ParseByteSize, for the size flags
#include "server/security/security_options.h"

namespace gqa {

// The engine defaults, with the KV cache capped at 2 GiB.
inline EngineConfig DefaultEngineConfig() {
  EngineConfig c;
  c.kv_cache_bytes = size_t{2} << 30;
  return c;
}

struct ServerOptions {
  ModelSetupOptions model;  // empty model: the built-in demo model
  std::string host = "0.0.0.0";
  int port = 50051;         // 0: pick a free port
  int metrics_port = 9400;  // 0: pick a free port; -1: no metrics endpoint
  std::string metrics_host;  // where /metrics listens; empty: the same as `host`
  // TLS, mutual TLS, API keys, message / prompt / stream limits.
  SecurityOptions security;
  // The OpenAI-compatible HTTP API (server/http). Off (-1) in a default-made
  // ServerOptions (tests, embedders); the command line's default is
  // kDefaultHttpPort. 0: pick a free port.
  int http_port = -1;
  std::string http_host;          // empty: the same as `host`
  int http_threads = 0;           // connections served at once; 0: DefaultHttpThreads
  std::string served_model_name;  // the model's id in the OpenAI API; empty: see ServedModelName
  // Block size, token budget, sequence cap, KV budget. On the CPU the KV pool
  // holds max_num_seqs full contexts, capped by kv_cache_bytes (default 2 GiB, so
  // a big model with the defaults still starts on a small machine).
  EngineConfig engine = DefaultEngineConfig();
  QueueLimits queue;
  double drain_timeout_seconds = 30;
  // The step watchdog (engine/runner/step_watchdog.h): a step running longer
  // than this is a hung device; see ServerApp for what follows. 0: off.
  double step_timeout_seconds = 60;
  // After a hung step, how long the process stays up (health NOT_SERVING,
  // /metrics readable) before it exits with ServerApp::kStepTimeoutExitCode.
  // Not a flag (tests set 0).
  double step_timeout_exit_grace_seconds = 5;
  // --backend, --dtype (also the dummy weights' dtype), --threads, --device,
  // --gpu-memory-utilization.
  BackendSetupOptions backend;
  // --kv-cache-memory was given. Without it a CUDA backend sizes the KV pool
  // from --gpu-memory-utilization instead of the 2 GiB CPU default.
  bool kv_cache_memory_set = false;
  bool help = false;
  std::string help_text;
};

inline constexpr int kDefaultHttpPort = 8000;

// --http-threads 0: enough for every request the engine can hold (running
// plus queued) and 16 more for probes; 512 queued when the queue is unbounded
// (<= 0). Capped at kMaxDefaultHttpThreads: each thread reserves a stack (8 MiB
// of address space) and counts against the process's thread limit, and a huge
// queue limit (up to INT_MAX) would otherwise overflow the sum; connections
// past the pool wait in httplib's queue, accepted.
inline constexpr int kMaxDefaultHttpThreads = 4096;
inline int DefaultHttpThreads(const ServerOptions& o) {
  const int64_t queued = o.queue.max_queued_requests > 0 ? o.queue.max_queued_requests : 512;
  const int64_t running = o.engine.max_num_seqs > 0 ? o.engine.max_num_seqs : 1;
  const int64_t threads = running + queued + 16;
  return static_cast<int>(threads < kMaxDefaultHttpThreads ? threads : kMaxDefaultHttpThreads);
}

// --served-model-name, else --model as given (as vLLM names it), else the
// demo model's config name.
std::string ServedModelName(const ServerOptions& o, const std::string& config_name);

// Parses argv. INVALID_ARGUMENT names the offending flag.
absl::StatusOr<ServerOptions> ParseServerArgs(int argc, const char* const* argv);


}  // namespace gqa
