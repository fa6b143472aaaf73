#include "server/http/http_front_end.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "server/http/http_handlers.h"

namespace gqa {
namespace {

constexpr size_t kMaxBodyBytes = size_t{32} << 20;  // 413 beyond
constexpr size_t kKeepAliveRequests = 1000;         // per connection, then it is closed

struct KnownRoute {
  const char* path;
  const char* method;
};
constexpr KnownRoute kRoutes[] = {
    {"/v1/completions", "POST"}, {"/v1/chat/completions", "POST"},
    {"/v1/models", "GET"},       {"/health", "GET"},
    {"/tokenize", "POST"},       {"/detokenize", "POST"},
};

// The answer to a client that speaks plain HTTP to the HTTPS port: a whole
// HTTP/1.1 response (the TLS handshake read its request line, so no HTTP
// handler runs), 400 in OpenAI's shape, as nginx answers the same mistake.
std::string PlaintextToHttpsAnswer() {
  HttpError e;
  e.message = "this port serves HTTPS: use an https:// URL";
  const std::string body = e.ToJson().dump();
  return absl::StrCat(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
      "\r\nConnection: close\r\n\r\n", body);
}

const KnownRoute* FindRoute(const std::string& path) {
  for (const KnownRoute& r : kRoutes) {
    if (path == r.path) return &r;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpFrontEnd>> HttpFrontEnd::Start(const HttpOptions& options) {
  // httplib's ThreadPool takes a size_t: a negative count would become ~2^64
  // threads (std::bad_alloc), 0 a server that never answers.
  if (options.threads <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the HTTP thread count must be positive, got ", options.threads));
  }
  std::unique_ptr<HttpFrontEnd> http(new HttpFrontEnd());
  if (options.tls.enabled()) {
    absl::StatusOr<SslCtxPtr> ctx = MakeServerSslContext(options.tls);
    if (!ctx.ok()) return ctx.status();
    http->server_.EnableTls(*std::move(ctx), PlaintextToHttpsAnswer());
  }
  const int threads = options.threads;
  http->server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http->server_.set_payload_max_length(kMaxBodyBytes);
  http->server_.set_keep_alive_max_count(kKeepAliveRequests);
  http->Route(options.api_keys);
  const int port = http->server_.Bind(options.host, options.port);
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP",
                                               options.tls.enabled() ? "S" : "", " on ",
                                               options.host, ":", options.port,
                                               " (address in use, or not an address of this "
                                               "host); --http-port -1 turns HTTP off"));
  }
  http->port_ = port;
  HttpFrontEnd* self = http.get();
  http->listener_ = std::thread([self] {
    self->server_.listen_after_bind();
    self->listener_exited_ = true;
  });
  // httplib's stop() does nothing until the accept loop has started: a
  // Stop() right after Start() (a failed model load) would then join a
  // listener that never ends. The loop starts within the thread's first
  // microseconds, so waiting for it here costs nothing.
  while (!http->server_.is_running() && !http->listener_exited_) std::this_thread::yield();
  return http;
}

HttpFrontEnd::~HttpFrontEnd() { Stop(); }

void HttpFrontEnd::SetServing(const ServingContext* context, std::string served_model,
                              HttpMetrics* metrics) {
  state_.served_model = std::move(served_model);
  state_.metrics = metrics;
  state_.created = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  state_.context.store(context, std::memory_order_release);
  state_.health = HttpState::Health::kServing;
}

void HttpFrontEnd::BeginDrain() {
  if (state_.health != HttpState::Health::kFailed) state_.health = HttpState::Health::kDraining;
  server_.stop();  // closes the listening socket; open connections finish
}

void HttpFrontEnd::Stop() {
  BeginDrain();
  // listen_after_bind returns once the pool has joined every connection.
  if (listener_.joinable()) listener_.join();
}

void HttpFrontEnd::Route(ApiKeyStore* api_keys) {
  const HttpState& s = state_;
  // --api-key-file: checked before routing, so no handler (nor a 404/405)
  // answers a caller without a key; /health stays open for probes. The
  // answer is OpenAI's for a bad key, and never echoes what was sent.
  if (api_keys) {
    server_.set_pre_routing_handler(
        [api_keys](const httplib::Request& req, httplib::Response& res) {
          if (req.path == "/health" || api_keys->Check(req.get_header_value("Authorization"))) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          HttpError e;
          e.status = 401;
          e.code = "invalid_api_key";
          e.message = req.has_header("Authorization")
                          ? "Incorrect API key provided."
                          : "You didn't provide an API key. You need to provide your API key in an "
                            "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                            "YOUR_KEY).";
          SetError(e, res);
          res.set_header("WWW-Authenticate", "Bearer");
          // Its body (if any) is left unread: the connection cannot carry
          // another request.
          res.set_header("Connection", "close");
          SocketServer::CloseAfterResponse();
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  server_.Post("/v1/completions", [&s](const httplib::Request& req, httplib::Response& res) {
    HandleGenerate(s, OpenAiApi::kCompletions, req, res);
  });
  server_.Post("/v1/chat/completions", [&s](const httplib::Request& req, httplib::Response& res) {
    HandleGenerate(s, OpenAiApi::kChat, req, res);
  });
  server_.Get("/v1/models", [&s](const httplib::Request& req, httplib::Response& res) {
    HandleModels(s, req, res);
  });
  server_.Get("/health", [&s](const httplib::Request& req, httplib::Response& res) {
    HandleHealth(s, req, res);
  });
  server_.Post("/tokenize", [&s](const httplib::Request& req, httplib::Response& res) {
    HandleTokenize(s, req, res);
  });
  server_.Post("/detokenize", [&s](const httplib::Request& req, httplib::Response& res) {
    HandleDetokenize(s, req, res);
  });
  // Errors no handler answered (unknown route, wrong method, httplib's own
  // 400/413) in OpenAI's shape. Called for every status >= 400, so answers
  // a handler already wrote are left alone.
  server_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.status == 499)
          return httplib::Server::HandlerResponse::Unhandled;
        HttpError e;
        e.status = res.status;
        const KnownRoute* route = FindRoute(req.path);
        if (res.status == 404 && route) {
          e.status = 405;
          e.message = absl::StrCat("method ", req.method, " is not allowed on ", req.path, " (use ",
                                   route->method, ")");
          res.set_header("Allow", route->method);
        } else if (res.status == 404) {
          e.message = absl::StrCat("Invalid URL (", req.method, " ", req.path, ")");
        } else if (res.status == 413) {
          e.message = absl::StrCat("the request body is larger than ", kMaxBodyBytes, " bytes");
        } else {
          e.message = absl::StrCat("bad request (HTTP ", res.status, ")");
        }
        SetError(e, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        HttpError e;
        e.status = 500;
        e.type = "server_error";
        e.message = "internal error";
        SetError(e, res);
      });
  // Counts every answered request (after its last byte).
  server_.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
    HttpMetrics* metrics = s.metrics.load();
    if (!metrics) return;
    const KnownRoute* route = FindRoute(req.path);
    metrics->CountRequest(route ? route->path : "other", res.status);
  });
}

}  // namespace gqa
