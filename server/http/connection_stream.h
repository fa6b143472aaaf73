// ConnectionStream: one accepted HTTP connection as cpp-httplib's Stream, for
// SocketServer's own connection loop (socket_server.h): PlainStream over the
// socket itself, TlsStream (tls_stream.h) over an OpenSSL session on it.
// Both keep the socket visible to the loop (to wait for the next request and
// check stop()) and to handlers (to watch for a hang-up, blocking_call.h):
// under TLS the client's FIN still shows on the raw socket as POLLRDHUP.
//
// Thread ownership: one pool thread, from accept to close.
#pragma once

#include <httplib.h>

#include <string>

namespace gqa {

// Waits until `events` is ready on `sock` or `timeout_ms` passes (-1: no
// limit). True: ready (or an error/hang-up the next read or write reports).
bool WaitForSocket(int sock, short events, int timeout_ms);

class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int sock, time_t read_timeout_sec, time_t write_timeout_sec)
      : sock_(sock),
        read_timeout_ms_(static_cast<int>(read_timeout_sec * 1000)),
        write_timeout_ms_(static_cast<int>(write_timeout_sec * 1000)) {}

  // Request bytes already received and not yet read (a pipelined request).
  virtual bool HasBufferedInput() const = 0;

  bool is_readable() const override;
  bool is_writable() const override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return sock_; }

 protected:
  const int sock_;
  const int read_timeout_ms_;
  const int write_timeout_ms_;
};

// Plaintext, with a read buffer (httplib's request-line reader reads a byte
// at a time). Sends use MSG_NOSIGNAL: no SIGPIPE ever.
class PlainStream final : public ConnectionStream {
 public:
  using ConnectionStream::ConnectionStream;

  bool HasBufferedInput() const override { return begin_ < end_; }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;

 private:
  char buffer_[CPPHTTPLIB_RECV_BUFSIZ];
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace gqa
