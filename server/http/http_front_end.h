// HttpFrontEnd: the OpenAI-compatible HTTP API (http_handlers.h lists the
// endpoints) beside the gRPC one, over the same engine: each request becomes
// a gqa.v1 GenerateRequest run by the same GenerationCall as a gRPC call; no
// engine code knows about HTTP.
//
//   auto http = HttpFrontEnd::Start(options);  // listening; /health 503, requests 503
//   http->SetServing(context, model, metrics); // the model is loaded: serving
//   http->BeginDrain();                         // SIGTERM: stops accepting, /health 503
//   http->Stop();                               // joins: in-flight requests finish first
//
// Threads: cpp-httplib (Debian libcpp-httplib 0.11) serves each connection
// on one thread of a fixed pool (options.threads) from accept to close, and a
// request that waits for tokens blocks its thread in poll() (blocking_call.h),
// an SSE stream for its whole life. That is acceptable here: a blocked thread
// costs its stack's touched pages (tens of KiB) and no CPU, so hundreds of
// open streams cost megabytes, and the engine's own limits (max_num_seqs
// running, --max-queued-requests waiting) bound how many requests can be open
// anyway. The pool is sized to hold that many plus spare threads for /health
// and /v1/models (ServerOptions.http_threads): when every thread is taken,
// further connections wait in httplib's queue, probes included.
//
// Thread ownership: the owner's thread calls every method; handlers run on
// the pool, the accept loop on a thread of its own.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/auth/api_key_store.h"
#include "server/http/http_state.h"
#include "server/http/socket_server.h"
#include "server/security/security_options.h"

namespace gqa {

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 8000;    // 0: any free port
  int threads = 256;  // connections served at once; <= 0: INVALID_ARGUMENT
  // --api-key-file (may be null: no keys asked): every route but /health
  // needs "Authorization: Bearer <key>", else 401 invalid_api_key in
  // OpenAI's shape. Must outlive Stop().
  ApiKeyStore* api_keys = nullptr;
  // HTTPS with gRPC's --tls-cert/--tls-key/--tls-client-ca and TLS policy
  // (server/security/server_ssl_context.h); not enabled(): plaintext.
  TlsServerOptions tls;
};

class HttpFrontEnd {
 public:
  // UNAVAILABLE when it cannot listen; INVALID_ARGUMENT for threads <= 0
  // or a bad TLS file (naming the flag).
  static absl::StatusOr<std::unique_ptr<HttpFrontEnd>> Start(const HttpOptions& options);
  ~HttpFrontEnd();  // Stop()

  // `context` (and `metrics`, may be null) must outlive Stop().
  void SetServing(const ServingContext* context, std::string served_model, HttpMetrics* metrics);
  void MarkFailed() { state_.health = HttpState::Health::kFailed; }
  // New connections are refused; requests on open connections still get
  // answers (the engine's UNAVAILABLE once it drains).
  void BeginDrain();
  // BeginDrain, then waits until every connection is closed (in-flight
  // requests finish, idle ones are closed within 100 ms).
  void Stop();

  int port() const { return port_; }

 private:
  HttpFrontEnd() = default;
  void Route(ApiKeyStore* api_keys);

  HttpState state_;
  SocketServer server_;
  std::thread listener_;
  std::atomic<bool> listener_exited_ = false;  // listen_after_bind returned
  int port_ = 0;
};

}  // namespace gqa
