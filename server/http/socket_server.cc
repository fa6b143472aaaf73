#include "server/http/socket_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "server/http/tls_stream.h"

namespace gqa {
namespace {

thread_local int current_socket = -1;
thread_local bool close_after_response = false;

constexpr int kStopCheckMs = 100;  // an idle keep-alive connection re-checks stop() this often
constexpr int kLingerMs = 1000;    // a refused plaintext client gets this long to read our answer
constexpr size_t kLingerBytes = size_t{64} << 10;

// After answering a client whose request was not read (plain HTTP on the
// HTTPS port): half-close, then read and drop what it sent until it closes
// (or kLingerMs / kLingerBytes), so closing with unread bytes does not reset
// the connection before the client has read the answer.
void LingeringClose(int sock) {
  shutdown(sock, SHUT_WR);
  char sink[4096];
  for (size_t dropped = 0; dropped < kLingerBytes && WaitForSocket(sock, POLLIN, kLingerMs);) {
    const ssize_t n = recv(sock, sink, sizeof(sink), MSG_DONTWAIT);
    if (n <= 0) break;
    dropped += static_cast<size_t>(n);
  }
}

}  // namespace

int SocketServer::CurrentSocket() { return current_socket; }

void SocketServer::CloseAfterResponse() { close_after_response = true; }

int SocketServer::Bind(const std::string& host, int port, int backlog) {
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return -1;
  if (::listen(svr_sock_, backlog) != 0) {
    ::close(svr_sock_.exchange(INVALID_SOCKET));  // stop() only acts once listening
    return -1;
  }
  return bound;
}

void SocketServer::EnableTls(SslCtxPtr ctx, std::string plaintext_answer) {
  tls_ = std::move(ctx);
  plaintext_answer_ = std::move(plaintext_answer);
}

bool SocketServer::process_and_close_socket(socket_t sock) {
  bool ok = false;
  if (!tls_) {
    PlainStream stream(sock, read_timeout_sec_, write_timeout_sec_);
    ok = ServeConnection(stream);
  } else {
    TlsStream::Refusal refusal;
    std::unique_ptr<TlsStream> stream = TlsStream::Accept(
        tls_.get(), sock, read_timeout_sec_, write_timeout_sec_,
        [this] { return svr_sock_ == INVALID_SOCKET; }, &refusal);
    if (stream) {
      ok = ServeConnection(*stream);
    } else if (refusal == TlsStream::Refusal::kPlaintextHttp && !plaintext_answer_.empty()) {
      [[maybe_unused]] ssize_t n =
          send(sock, plaintext_answer_.data(), plaintext_answer_.size(), MSG_NOSIGNAL);
      LingeringClose(sock);
    }
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

bool SocketServer::ServeConnection(ConnectionStream& stream) {
  const int sock = stream.socket();
  current_socket = sock;
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0; --left) {
    // Wait for the next request: keep-alive timeout, hang-up or stop() end it.
    bool ready = stream.HasBufferedInput();
    for (time_t waited_ms = 0;
         !ready && svr_sock_ != INVALID_SOCKET && waited_ms < keep_alive_timeout_sec_ * 1000;
         waited_ms += kStopCheckMs) {
      ready = WaitForSocket(sock, POLLIN, kStopCheckMs);
    }
    if (!ready || svr_sock_ == INVALID_SOCKET) break;
    bool connection_closed = false;
    close_after_response = false;
    ok = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!ok || connection_closed || close_after_response) break;
  }
  current_socket = -1;
  return ok;
}

}  // namespace gqa
