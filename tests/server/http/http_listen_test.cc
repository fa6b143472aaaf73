// The HTTP front end's listening side: a burst of connections opened before
// the server accepts (more than cpp-httplib's own listen backlog of 5) all
// complete and are answered; --http-threads 0's pool size for every queue
// limit (unbounded and huge ones included) and in-process servers started
// with it; a non-positive thread count is an error, not std::bad_alloc.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <climits>
#include <thread>
#include <vector>

#include "server/http/http_front_end.h"
#include "tests/server/http/http_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

// A non-blocking connect to 127.0.0.1:port; the socket.
int StartConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << errno;
  return fd;
}

// Waits (at most kWait in all) until every socket's connect has finished;
// the number that connected. A handshake the listener dropped (its accept
// queue full) is retried by the kernel only after 1, 3, 7, ... s, and never
// succeeds while nothing accepts.
int WaitConnected(const std::vector<int>& fds) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::vector<bool> done(fds.size(), false);
  int connected = 0;
  size_t left = fds.size();
  while (left > 0 && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> p;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!done[i]) {
        p.push_back({fds[i], POLLOUT, 0});
        index.push_back(i);
      }
    }
    if (poll(p.data(), p.size(), 1000) <= 0) continue;
    for (size_t k = 0; k < p.size(); ++k) {
      if (!p[k].revents) continue;
      int error = 0;
      socklen_t len = sizeof(error);
      getsockopt(p[k].fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error == 0) ++connected;
      done[index[k]] = true;
      --left;
    }
  }
  return connected;
}

TEST(HttpListenTest, ConnectionsOpenedBeforeAcceptAllCompleteAndAreAnswered) {
  constexpr int kConnections = 64;  // > httplib's backlog of 5, < SOMAXCONN
  SocketServer server;
  server.Get("/ping", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pong", "text/plain");
  });
  const int port = server.Bind("127.0.0.1", 0);
  ASSERT_GT(port, 0);
  // Nothing accepts yet: every handshake must fit in the accept queue.
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) fds.push_back(StartConnect(port));
  EXPECT_EQ(WaitConnected(fds), kConnections);

  std::thread listener([&server] { server.listen_after_bind(); });
  int answered = 0;
  for (int fd : fds) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const std::string request = "GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      continue;
    }
    std::string got;
    char buf[1024];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) got.append(buf, static_cast<size_t>(n));
    if (got.rfind("HTTP/1.1 200", 0) == 0 && got.find("pong") != std::string::npos) ++answered;
  }
  EXPECT_EQ(answered, kConnections);
  for (int fd : fds) close(fd);
  server.stop();
  listener.join();
}

TEST(HttpThreadsTest, DefaultCountsEveryRequestTheEngineHoldsPlus16) {
  ServerOptions o;
  o.engine.max_num_seqs = 16;
  o.queue.max_queued_requests = 100;
  EXPECT_EQ(DefaultHttpThreads(o), 16 + 100 + 16);
}

TEST(HttpThreadsTest, DefaultIsSaneForEveryQueueLimit) {
  ServerOptions o;
  o.engine.max_num_seqs = 64;
  // <= 0: no queue limit, so 512 queued are assumed.
  for (int unlimited : {0, -1, INT_MIN}) {
    o.queue.max_queued_requests = unlimited;
    EXPECT_EQ(DefaultHttpThreads(o), 64 + 512 + 16) << unlimited;
  }
  // Huge limits: capped, never overflowing.
  for (int huge : {100000, INT_MAX - 10, INT_MAX}) {
    o.queue.max_queued_requests = huge;
    EXPECT_EQ(DefaultHttpThreads(o), kMaxDefaultHttpThreads) << huge;
  }
  o.queue.max_queued_requests = 256;
  o.engine.max_num_seqs = INT_MAX;
  EXPECT_EQ(DefaultHttpThreads(o), kMaxDefaultHttpThreads);
  o.engine.max_num_seqs = 0;
  EXPECT_EQ(DefaultHttpThreads(o), 1 + 256 + 16);
}

TEST(HttpThreadsTest, ANonPositiveCountIsAnErrorNotBadAlloc) {
  for (int threads : {0, -1, INT_MIN}) {
    HttpOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = threads;
    absl::StatusOr<std::unique_ptr<HttpFrontEnd>> http = HttpFrontEnd::Start(o);
    ASSERT_FALSE(http.ok()) << threads;
    EXPECT_EQ(http.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(http.status().message(), HasSubstr("thread count must be positive"));
  }
}

// In-process servers with http_threads 0 (the default count) for unbounded,
// default and huge queue limits start and answer.
TEST(HttpThreadsTest, ZeroStartsAnInProcessServerForEveryQueueLimit) {
  for (int limit : {0, -1, 256, INT_MAX}) {
    ServerOptions o = HttpTestServerOptions();
    o.http_threads = 0;
    o.queue.max_queued_requests = limit;
    std::unique_ptr<ServerApp> app = StartTestServer(o);
    ASSERT_NE(app, nullptr) << limit;
    std::unique_ptr<httplib::Client> c = HttpClient(*app);
    httplib::Result r = c->Get("/health");
    ASSERT_TRUE(r) << limit;
    EXPECT_EQ(r->status, 200) << limit;
  }
}

}  // namespace
}  // namespace gqa::testing
