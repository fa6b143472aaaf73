// MetricsHttpServer: serves GET /metrics (the Prometheus text format) over
// HTTP with civetweb, the embedded server prometheus-cpp's exposer uses.
//
//   GET|HEAD /metrics -> 200, Content-Type: text/plain; version=0.0.4; charset=utf-8
//   other methods     -> 405
//   any other path    -> 404
//
// Thread ownership: civetweb runs its own listener and worker threads and
// calls `render` on them, possibly concurrently, so `render` must be
// thread-safe (ServingMetrics::Render is). Start and the destructor run on
// the owner's thread; the destructor stops the server and returns only after
// every civetweb thread has finished, so `render` is never called after it.
// That can take up to ~2 s: civetweb 1.15's listener thread polls its socket
// in 2 s quanta and mg_stop joins it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct mg_connection;
struct mg_context;

namespace gqa {

class MetricsHttpServer {
 public:
  // Listens on host:port. `host` is an IPv4 address or name ("127.0.0.1",
  // "0.0.0.0", "localhost"); empty means every IPv4 interface. IPv6 ("::1")
  // only where civetweb was built with it (Debian 12's is not). Port 0 picks
  // a free port (see port()). Errors: INVALID_ARGUMENT for a port outside
  // 0..65535, a null `render`, or unsupported IPv6; UNAVAILABLE naming the
  // address when the port is taken or the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& host, int port, std::function<std::string()> render);

  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The port actually bound (the chosen one when Start got port 0).
  int port() const { return port_; }

 private:
  explicit MetricsHttpServer(std::function<std::string()> render);

  // civetweb request handler; `cbdata` is the MetricsHttpServer.
  static int HandleRequest(mg_connection* conn, void* cbdata);

  const std::function<std::string()> render_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace gqa
