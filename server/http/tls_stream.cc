#include "server/http/tls_stream.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>

namespace gqa {
namespace {

constexpr int kStopCheckMs = 100;  // a handshake in progress re-checks stop() this often

// A socket BIO whose writes use send(MSG_NOSIGNAL) (OpenSSL's own socket BIO
// uses write(), which raises SIGPIPE on a closed peer). The fd is the BIO's
// data; the BIO never closes it.
int BioFd(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

int BioWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = send(BioFd(b), data, static_cast<size_t>(len), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int BioRead(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = recv(BioFd(b), data, static_cast<size_t>(len), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long BioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

const BIO_METHOD* NoSigpipeSocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gqa socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    return m;
  }();
  return method;
}

bool IsPlaintextHttp(unsigned long error) {
  return ERR_GET_LIB(error) == ERR_LIB_SSL && ERR_GET_REASON(error) == SSL_R_HTTP_REQUEST;
}

}  // namespace

TlsStream::TlsStream(SSL* ssl, int sock, time_t read_timeout_sec, time_t write_timeout_sec)
    : ConnectionStream(sock, read_timeout_sec, write_timeout_sec), ssl_(ssl) {}

TlsStream::~TlsStream() {
  if (!failed_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // our close_notify; the client's is not awaited
  }
  SSL_free(ssl_);
  ERR_clear_error();
}

std::unique_ptr<TlsStream> TlsStream::Accept(SSL_CTX* ctx, int sock, time_t read_timeout_sec,
                                             time_t write_timeout_sec,
                                             const std::function<bool()>& stopping,
                                             Refusal* refusal) {
  *refusal = Refusal::kHandshake;
  const int flags = fcntl(sock, F_GETFL);
  if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) return nullptr;
  SSL* ssl = SSL_new(ctx);
  BIO* bio = ssl ? BIO_new(NoSigpipeSocketMethod()) : nullptr;
  if (!bio) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(sock)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // one reference, owned by `ssl`
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl, sock, read_timeout_sec, write_timeout_sec));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(read_timeout_sec);
  while (true) {
    ERR_clear_error();
    const int rc = SSL_accept(ssl);
    if (rc == 1) break;
    const int error = SSL_get_error(ssl, rc);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      if (IsPlaintextHttp(ERR_peek_error())) *refusal = Refusal::kPlaintextHttp;
      stream->failed_ = true;
      return nullptr;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0 || stopping()) {
      stream->failed_ = true;  // no close_notify mid-handshake
      return nullptr;
    }
    WaitForSocket(sock, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                  static_cast<int>(std::min<long long>(left, kStopCheckMs)));
  }
  *refusal = Refusal::kNone;
  return stream;
}

bool TlsStream::HasBufferedInput() const { return begin_ < end_ || SSL_pending(ssl_) > 0; }

bool TlsStream::WaitForRetry(int rc, int timeout_ms) {
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      return WaitForSocket(sock_, POLLIN, timeout_ms);
    case SSL_ERROR_WANT_WRITE:
      return WaitForSocket(sock_, POLLOUT, timeout_ms);
    case SSL_ERROR_ZERO_RETURN:  // the client's close_notify: answer it
      return false;
    default:  // SSL_ERROR_SYSCALL, SSL_ERROR_SSL: no close_notify allowed
      failed_ = true;
      return false;
  }
}

ssize_t TlsStream::read(char* ptr, size_t size) {
  if (begin_ == end_) {
    while (true) {
      ERR_clear_error();
      const int rc = SSL_read(ssl_, buffer_, sizeof(buffer_));
      if (rc > 0) {
        begin_ = 0;
        end_ = static_cast<size_t>(rc);
        break;
      }
      if (!WaitForRetry(rc, read_timeout_ms_)) {
        return SSL_get_error(ssl_, rc) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
      }
    }
  }
  const size_t n = std::min(size, end_ - begin_);
  std::memcpy(ptr, buffer_ + begin_, n);
  begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t TlsStream::write(const char* ptr, size_t size) {
  // SSL_write takes an int; httplib writes a chunk at a time anyway. A
  // retried SSL_write gets the same arguments, as OpenSSL requires.
  const int len = static_cast<int>(std::min<size_t>(size, INT_MAX));
  while (true) {
    ERR_clear_error();
    const int rc = SSL_write(ssl_, ptr, len);
    if (rc > 0) return rc;
    if (!WaitForRetry(rc, write_timeout_ms_)) return -1;
  }
}

}  // namespace gqa
