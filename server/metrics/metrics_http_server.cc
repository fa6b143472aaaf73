#include "server/metrics/metrics_http_server.h"

#include <civetweb.h>

#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/metrics/text_format.h"

namespace gqa {
namespace {

constexpr char kMetricsPath[] = "/metrics";
// Scrapes are rare and cheap; two workers let one slow client not block the
// next scrape (civetweb's default is 50).
constexpr char kNumThreads[] = "2";

// civetweb wants this once per process before the first mg_start; no TLS.
void InitCivetwebOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// civetweb reports why a start failed (e.g. "cannot bind to 127.0.0.1:9100:
// 98 (Address already in use)") only through its log callback, and mg_start2
// runs on the caller's thread: Start points this at a buffer for the call.
// Messages from civetweb's own threads later are dropped (it has no log file
// configured either).
thread_local std::string* t_start_log = nullptr;

int CaptureStartLog(const mg_connection* /*conn*/, const char* message) {
  if (t_start_log != nullptr && message != nullptr) {
    if (!t_start_log->empty()) t_start_log->append("; ");
    t_start_log->append(message);
  }
  return 1;  // handled
}

// civetweb's listening_ports syntax: "port", "1.2.3.4:port", "[::1]:port".
std::string ListeningPorts(const std::string& host, int port) {
  if (host.empty()) return std::to_string(port);
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

}  // namespace

MetricsHttpServer::MetricsHttpServer(std::function<std::string()> render)
    : render_(std::move(render)) {}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& host, int port, std::function<std::string()> render) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", port, " is outside 0..65535"));
  }
  if (!render) return absl::InvalidArgumentError("metrics render function is empty");
  InitCivetwebOnce();
  if (host.find(':') != std::string::npos && mg_check_feature(MG_FEATURES_IPV6) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics host '", host, "' is IPv6, which this civetweb build does not support"));
  }

  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(std::move(render)));
  const std::string address = ListeningPorts(host, port);
  const char* options[] = {"listening_ports", address.c_str(), "num_threads", kNumThreads, nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &CaptureStartLog;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = options;
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  std::string start_log;
  t_start_log = &start_log;
  server->context_ = mg_start2(&init, &error);
  t_start_log = nullptr;
  if (server->context_ == nullptr) {
    // The log names the cause; error_text only says "Failed to setup server ports".
    const std::string why = !start_log.empty() ? start_log
                            : error_text[0]    ? std::string(error_text)
                                               : std::string("mg_start failed");
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", why));
  }
  // Every path goes to HandleRequest ("/" prefix-matches all), which answers
  // 404 for anything but /metrics.
  mg_set_request_handler(server->context_, "/", &MetricsHttpServer::HandleRequest, server.get());

  mg_server_port ports[4] = {};
  const int num_ports = mg_get_server_ports(server->context_, 4, ports);
  if (num_ports < 1 || ports[0].port <= 0) {
    return absl::InternalError(
        absl::StrCat("metrics server on ", address, " started but reports no bound port"));
  }
  server->port_ = ports[0].port;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (context_ != nullptr) mg_stop(context_);
}

int MetricsHttpServer::HandleRequest(mg_connection* conn, void* cbdata) {
  const auto* self = static_cast<const MetricsHttpServer*>(cbdata);
  const mg_request_info* request = mg_get_request_info(conn);
  const std::string_view path = request->local_uri != nullptr ? request->local_uri : "";
  const std::string_view method = request->request_method != nullptr ? request->request_method : "";
  if (path != kMetricsPath) {
    mg_send_http_error(conn, 404, "%s", "Not found; metrics are at /metrics\n");
    return 404;
  }
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    mg_response_header_start(conn, 405);
    mg_response_header_add(conn, "Allow", "GET, HEAD", -1);
    mg_response_header_add(conn, "Content-Length", "0", -1);
    mg_response_header_send(conn);
    return 405;
  }
  // An exception must not unwind through civetweb's C frames.
  std::string body;
  try {
    body = self->render_();
  } catch (const std::exception& e) {
    mg_send_http_error(conn, 500, "rendering metrics failed: %s\n", e.what());
    return 500;
  } catch (...) {
    mg_send_http_error(conn, 500, "%s", "rendering metrics failed\n");
    return 500;
  }
  mg_send_http_ok(conn, metrics::kTextFormatContentType, static_cast<long long>(body.size()));
  if (!head) mg_write(conn, body.data(), body.size());
  return 200;
}

}  // namespace gqa
