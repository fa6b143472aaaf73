#include "server/http/socket_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gqa {
namespace {

thread_local int current_socket = -1;
thread_local bool close_after_response = false;

constexpr int kStopCheckMs = 100;  // an idle keep-alive connection re-checks stop() this often

// Waits until `events` is ready on `sock` or `timeout_ms` passes. True: ready
// (or an error/hang-up the next read or write will report).
bool WaitFor(int sock, short events, int timeout_ms) {
  pollfd p{sock, events, 0};
  int n;
  do {
    n = poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

void SocketAddress(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof(text));
    port = ntohs(a.sin6_port);
  }
  ip = text;
}

// A connection's socket as httplib's Stream, with a read buffer (httplib's
// request-line reader reads a byte at a time). One per connection, so bytes
// a client pipelined behind a request are kept for the next one.
class BufferedSocketStream final : public httplib::Stream {
 public:
  BufferedSocketStream(int sock, time_t read_timeout_sec, time_t write_timeout_sec)
      : sock_(sock),
        read_timeout_ms_(static_cast<int>(read_timeout_sec * 1000)),
        write_timeout_ms_(static_cast<int>(write_timeout_sec * 1000)) {}

  bool buffered() const { return begin_ < end_; }

  bool is_readable() const override {
    return buffered() || WaitFor(sock_, POLLIN, read_timeout_ms_);
  }
  bool is_writable() const override { return WaitFor(sock_, POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!buffered()) {
      if (!WaitFor(sock_, POLLIN, read_timeout_ms_)) return -1;
      ssize_t n;
      do {
        n = recv(sock_, buffer_, sizeof(buffer_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      SocketAddress(addr, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      SocketAddress(addr, ip, port);
    }
  }
  socket_t socket() const override { return sock_; }

 private:
  const int sock_;
  const int read_timeout_ms_;
  const int write_timeout_ms_;
  char buffer_[CPPHTTPLIB_RECV_BUFSIZ];
  size_t begin_ = 0;
  size_t end_ = 0;
};

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

bool SocketServer::process_and_close_socket(socket_t sock) {
  current_socket = sock;
  BufferedSocketStream stream(sock, read_timeout_sec_, write_timeout_sec_);
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0; --left) {
    // Wait for the next request: keep-alive timeout, hang-up or stop() end it.
    bool ready = stream.buffered();
    for (time_t waited_ms = 0;
         !ready && svr_sock_ != INVALID_SOCKET && waited_ms < keep_alive_timeout_sec_ * 1000;
         waited_ms += kStopCheckMs) {
      ready = WaitFor(sock, POLLIN, kStopCheckMs);
    }
    if (!ready || svr_sock_ == INVALID_SOCKET) break;
    bool connection_closed = false;
    close_after_response = false;
    ok = process_request(stream, /*close_connection=*/left == 1, connection_closed, nullptr);
    if (!ok || connection_closed || close_after_response) break;
  }
  current_socket = -1;
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

}  // namespace gqa
