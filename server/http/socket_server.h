// SocketServer: cpp-httplib's Server, with one addition: a handler can see the
// socket of the connection it is answering (CurrentSocket), so a request that
// waits for the engine can notice the client hanging up (poll POLLRDHUP) and
// abort its work at once. httplib 0.11 hands handlers no socket and its
// DataSink::is_writable only select()s for writability, which stays true
// after the peer closed; a dead client would otherwise hold its request (and
// its KV blocks) until the last token was written.
//
// How: Server's per-connection loop is the private virtual
// process_and_close_socket, which httplib's own SSLServer overrides the same
// way. This override runs the same keep-alive loop over a small buffered
// Stream of its own (connection_stream.h), calling the protected
// Server::process_request per request, with the socket recorded in a
// thread_local for the handler (each connection is served start to end on
// one pool thread).
//
// HTTPS (EnableTls): the same loop over a TlsStream, an OpenSSL session on
// the same socket, so CurrentSocket and the hang-up check work unchanged
// (httplib::SSLServer's loop would lose them).
//
// Differences from httplib's loop: sends use MSG_NOSIGNAL (no SIGPIPE ever),
// and an idle keep-alive connection re-checks stop() every 100 ms instead of
// holding its thread for the whole keep-alive timeout, so a drain's join of
// the pool is not delayed by idle clients.
//
// Listen backlog: httplib 0.11 listens with a backlog of 5, so when many
// clients connect at once (256 streams opened together) while the accept
// thread is not scheduled (a loaded machine), the kernel's accept queue
// overflows and it drops their handshakes: the clients time out (measured in
// bench/results/http_vs_grpc_cpu.md). Bind raises it to SOMAXCONN (the kernel
// caps it at net.core.somaxconn) by listening again on the bound socket, which
// Linux allows and which only changes the backlog.
//
// Thread ownership: as httplib::Server (routes set before listening; stop()
// from any thread); CurrentSocket on a handler's thread.
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include <string>

#include "server/http/connection_stream.h"
#include "server/security/server_ssl_context.h"

namespace gqa {

class SocketServer : public httplib::Server {
 public:
  // The socket of the connection the calling thread is serving; -1 on a
  // thread that serves none.
  static int CurrentSocket();

  // Closes the calling thread's connection once the current response is
  // written, instead of keeping it alive: for answers given before the
  // request's body was read (a 401 from the pre-routing key check), whose
  // unread body would otherwise be parsed as the next request. The caller
  // also sends "Connection: close" so the client knows.
  static void CloseAfterResponse();

  // bind_to_port (port > 0) or bind_to_any_port (port 0), then the backlog
  // raised to `backlog`. The port bound; -1 when it cannot bind or listen.
  int Bind(const std::string& host, int port, int backlog = SOMAXCONN);

  // HTTPS: every connection starts with a TLS handshake on `ctx`
  // (tls_stream.h); one that fails is closed, except that a client speaking
  // plain HTTP is first sent `plaintext_answer` (a whole HTTP response, ""
  // for none). Before Bind.
  void EnableTls(SslCtxPtr ctx, std::string plaintext_answer);

 private:
  bool process_and_close_socket(socket_t sock) override;
  // The keep-alive loop over one connection's stream; the socket stays open.
  bool ServeConnection(ConnectionStream& stream);

  SslCtxPtr tls_;  // null: plaintext
  std::string plaintext_answer_;
};

}  // namespace gqa
