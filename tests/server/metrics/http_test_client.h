// A minimal blocking HTTP/1.1 client over a loopback TCP socket, for tests:
// one request per connection ("Connection: close"), response read to EOF.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gqa::testing {

// Decodes a "Transfer-Encoding: chunked" body (Go servers send one for
// larger responses of unknown length).
inline absl::StatusOr<std::string> DecodeChunked(const std::string& raw) {
  std::string body;
  size_t pos = 0;
  while (true) {
    const size_t line_end = raw.find("\r\n", pos);
    if (line_end == std::string::npos) return absl::DataLossError("truncated chunk size");
    const std::string size_hex = raw.substr(pos, raw.find_first_of(";\r", pos) - pos);
    size_t size = 0;
    if (!absl::SimpleHexAtoi(size_hex, &size)) {
      return absl::DataLossError(absl::StrCat("bad chunk size '", size_hex, "'"));
    }
    if (size == 0) return body;
    pos = line_end + 2;
    if (pos + size > raw.size()) return absl::DataLossError("truncated chunk");
    body.append(raw, pos, size);
    pos += size + 2;  // chunk data, CRLF
  }
}

struct HttpResponse {
  int status = 0;
  std::string content_type;  // "" when absent
  std::string body;
};

// `target` is the request target, e.g. "/metrics" or "/api/v1/query?query=up".
inline absl::StatusOr<HttpResponse> HttpRequest(int port, const std::string& method,
                                                const std::string& target) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  // Bounds a hang if the server misbehaves; a healthy one answers at once.
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect 127.0.0.1:", port, ": ", error));
  }
  const std::string request = absl::StrCat(
      method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port, "\r\nConnection: close\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return absl::UnavailableError("send failed");
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[4096];
  while (true) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      close(fd);
      return absl::DeadlineExceededError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);

  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return absl::DataLossError(absl::StrCat("no end of headers in: ", raw));
  }
  HttpResponse response;
  response.body = raw.substr(header_end + 4);
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, header_end), "\r\n");
  // "HTTP/1.1 200 OK"
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &response.status)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", lines[0]));
  }
  bool chunked = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    const std::string name = lines[i].substr(0, colon);
    const std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (absl::EqualsIgnoreCase(name, "content-type")) response.content_type = value;
    if (absl::EqualsIgnoreCase(name, "transfer-encoding") &&
        absl::EqualsIgnoreCase(value, "chunked")) {
      chunked = true;
    }
  }
  if (chunked) {
    absl::StatusOr<std::string> body = DecodeChunked(response.body);
    if (!body.ok()) return body.status();
    response.body = *std::move(body);
  }
  return response;
}

}  // namespace gqa::testing
