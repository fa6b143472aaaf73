// Helpers for the HTTP front end's tests: an in-process server (gRPC and
// HTTP, both on free ports), an httplib::Client for it, the SSE events of a
// streamed body, and a raw socket (plain or TLS) for clients that hang up.
// HTTPS clients: https_test_util.h.
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_test_util.h"

namespace gqa::testing {

using json = nlohmann::json;

inline ServerOptions HttpTestServerOptions() {
  ServerOptions o = TestServerOptions();
  o.http_port = 0;
  o.http_threads = 16;
  return o;
}

inline std::unique_ptr<httplib::Client> HttpClient(const ServerApp& app) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", app.http_port());
  c->set_read_timeout(kWait);
  c->set_write_timeout(kWait);
  c->set_keep_alive(true);  // one connection: requests are served in order
  return c;
}

inline httplib::Result PostJson(httplib::Client& c, const std::string& path, const json& body) {
  return c.Post(path.c_str(), body.dump(), "application/json");
}

// The JSON of each "data: {...}" event of an SSE body; "[DONE]" as the string
// "[DONE]". Fails the test on anything else (every event is "data: X\n\n").
inline std::vector<json> SseEvents(const std::string& body) {
  std::vector<json> events;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event at " << pos;
    if (end == std::string::npos) break;
    const std::string event = body.substr(pos, end - pos);
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    const std::string data = event.substr(6);
    events.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
    pos = end + 2;
  }
  return events;
}

// A TCP connection to 127.0.0.1:port; -1 when it fails.
inline int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A connection to the HTTP port, plain or (with `tls`, a client context)
// over TLS, for clients that vanish: Close() drops the socket without a TLS
// close_notify, as a killed client does.
class RawConnection {
 public:
  explicit RawConnection(int port, SSL_CTX* tls = nullptr) {
    fd_ = ConnectLoopback(port);
    EXPECT_GE(fd_, 0);
    if (tls && fd_ >= 0) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      EXPECT_EQ(SSL_connect(ssl_), 1) << "TLS handshake";
    }
  }
  ~RawConnection() { Close(); }
  void SendPost(const std::string& path, const std::string& body) {
    const std::string request = "POST " + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    const ssize_t sent = ssl_ ? SSL_write(ssl_, request.data(), static_cast<int>(request.size()))
                              : send(fd_, request.data(), request.size(), 0);
    ASSERT_EQ(sent, static_cast<ssize_t>(request.size()));
  }
  // Reads until `needle` arrived (or the peer closed); returns what was read.
  std::string ReadUntil(const std::string& needle) {
    std::string got;
    char buf[4096];
    while (got.find(needle) == std::string::npos) {
      const ssize_t n = ssl_ ? SSL_read(ssl_, buf, sizeof(buf)) : recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    SSL_free(ssl_);
    ssl_ = nullptr;
  }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

}  // namespace gqa::testing
