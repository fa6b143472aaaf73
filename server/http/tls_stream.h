// TlsStream: an accepted connection of the HTTPS port as httplib's Stream:
// OpenSSL's server handshake and records over the socket, which stays ours
// (SocketServer's loop polls it between requests, handlers poll it for
// POLLRDHUP: a client that hangs up mid-stream is seen exactly as in
// plaintext). httplib::SSLServer would run its own connection loop instead
// and lose that; Debian's cpp-httplib is a compiled library whose SSL stream
// class is not in its header, hence this small one.
//
// The socket is made non-blocking and every wait is a poll() with the
// server's read/write timeouts, so a client stalled mid-handshake or
// mid-record holds its thread no longer than a plaintext one. Records are
// written through a socket BIO that sends with MSG_NOSIGNAL: a peer gone
// mid-write is an error, never SIGPIPE.
//
// Thread ownership: one pool thread, from Accept to destruction.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>

#include "server/http/connection_stream.h"

namespace gqa {

class TlsStream final : public ConnectionStream {
 public:
  enum class Refusal {
    kNone,
    kPlaintextHttp,  // the client spoke plain HTTP to the HTTPS port
    kHandshake,      // anything else: bad or missing client cert, no shared cipher, timeout, EOF
  };

  // The server handshake on `sock`, waiting at most the read timeout for the
  // client (checking `stopping` every 100 ms). Null, with `refusal` set, when
  // the handshake fails (OpenSSL has sent its alert where there is one).
  static std::unique_ptr<TlsStream> Accept(SSL_CTX* ctx, int sock, time_t read_timeout_sec,
                                           time_t write_timeout_sec,
                                           const std::function<bool()>& stopping, Refusal* refusal);
  // Sends close_notify (without waiting for the client's) unless the session
  // failed; the socket is the caller's to close.
  ~TlsStream() override;

  bool HasBufferedInput() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;

 private:
  TlsStream(SSL* ssl, int sock, time_t read_timeout_sec, time_t write_timeout_sec);
  // After an SSL_* call returned `rc` <= 0: waits for what OpenSSL asked
  // for. False: the session failed, or the wait timed out.
  bool WaitForRetry(int rc, int timeout_ms);

  SSL* const ssl_;
  bool failed_ = false;
  char buffer_[CPPHTTPLIB_RECV_BUFSIZ];
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace gqa
