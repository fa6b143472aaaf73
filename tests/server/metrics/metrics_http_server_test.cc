#include "server/metrics/metrics_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "gtest/gtest.h"
#include "server/metrics/serving_metrics.h"
#include "tests/server/metrics/http_test_client.h"

namespace gqa {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

TEST(MetricsHttpServerTest, ServesMetricsOnAPickedPort) {
  std::atomic<int> calls{0};
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, [&] {
    calls.fetch_add(1);
    return std::string("# HELP x X.\n# TYPE x gauge\nx 1\n");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  absl::StatusOr<HttpResponse> r = HttpRequest((*server)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, kContentType);
  EXPECT_EQ(r->body, "# HELP x X.\n# TYPE x gauge\nx 1\n");
  EXPECT_EQ(calls.load(), 1);

  r = HttpRequest((*server)->port(), "HEAD", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
}

TEST(MetricsHttpServerTest, ServesServingMetricsRender) {
  ServingMetrics metrics({"m", "cpu", "fp32", 4, 1, 16});
  metrics.ObserveRequestFinished(1.0, 3, 2, "stop");
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, [&] { return metrics.Render(); });
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<HttpResponse> r = HttpRequest((*server)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, metrics.Render());
}

TEST(MetricsHttpServerTest, OtherPathsAre404OtherMethods405) {
  auto server = MetricsHttpServer::Start("127.0.0.1", 0, [] { return std::string("x 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  for (const char* path : {"/", "/metric", "/metrics/", "/metrics/x", "/favicon.ico"}) {
    absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 404) << path;
  }
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "POST", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 405);
}

TEST(MetricsHttpServerTest, ThrowingRenderGives500) {
  auto server = MetricsHttpServer::Start("127.0.0.1", 0,
                                         []() -> std::string { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<HttpResponse> r = HttpRequest((*server)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 500);
}

TEST(MetricsHttpServerTest, BusyPortIsAClearError) {
  // Hold a listening socket on a port the kernel picks.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int busy_port = ntohs(addr.sin_port);

  auto server = MetricsHttpServer::Start("127.0.0.1", busy_port, [] { return std::string(); });
  close(fd);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  const std::string message(server.status().message());
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(busy_port)), std::string::npos) << message;
  EXPECT_NE(message.find("Address already in use"), std::string::npos) << message;
}

TEST(MetricsHttpServerTest, TwoServersOnPortZeroGetDifferentPorts) {
  auto a = MetricsHttpServer::Start("127.0.0.1", 0, [] { return std::string("a 1\n"); });
  auto b = MetricsHttpServer::Start("127.0.0.1", 0, [] { return std::string("b 1\n"); });
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->port(), (*b)->port());
  absl::StatusOr<HttpResponse> r = HttpRequest((*b)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "b 1\n");
}

TEST(MetricsHttpServerTest, RejectsBadArguments) {
  EXPECT_EQ(
      MetricsHttpServer::Start("127.0.0.1", 70000, [] { return std::string(); }).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsHttpServer::Start("127.0.0.1", -1, [] { return std::string(); }).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsHttpServer::Start("127.0.0.1", 0, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(MetricsHttpServer::Start("not an address", 0, [] { return std::string(); }).ok());
}

TEST(MetricsHttpServerTest, StopsInDestructor) {
  int port;
  {
    auto server = MetricsHttpServer::Start("127.0.0.1", 0, [] { return std::string("x 1\n"); });
    ASSERT_TRUE(server.ok()) << server.status();
    port = (*server)->port();
  }
  // Nothing listens any more: connecting is refused.
  EXPECT_EQ(HttpRequest(port, "GET", "/metrics").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gqa
