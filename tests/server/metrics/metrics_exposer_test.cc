// MetricsExposer over a real loopback socket: what a scraper sees.
#include "server/metrics/metrics_exposer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/metrics/serving_metrics.h"
#include "tests/server/metrics/exposition_test_util.h"
#include "tests/server/metrics/http_test_client.h"

namespace gqa {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;
using testing::SampleLines;
using testing::SampleValue;

ModelInfoLabels TestInfo() { return {"m", "cpu", "fp32", 4, 1, 16}; }

// The body's lines that belong to our families: the exposer adds its own
// exposer_* families, whose values move with every scrape.
std::vector<std::string> GqaSampleLines(const std::string& text) {
  std::vector<std::string> out;
  for (std::string& line : SampleLines(text)) {
    if (line.rfind("gqa_", 0) == 0) out.push_back(std::move(line));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MetricsExposerTest, ServesTheRegistryOnAPickedPort) {
  ServingMetrics metrics(TestInfo());
  metrics.ObserveRequestFinished(1.0, 3, 2, "stop");
  auto exposer = MetricsExposer::Start("127.0.0.1", 0, metrics);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  ASSERT_GT((*exposer)->port(), 0);

  absl::StatusOr<HttpResponse> r = HttpRequest((*exposer)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  // prometheus-cpp 1.0.1 names no format version; Prometheus reads plain text
  // as the 0.0.4 text format.
  EXPECT_EQ(r->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(GqaSampleLines(r->body), GqaSampleLines(metrics.Render()));
  EXPECT_EQ(SampleValue(r->body, "gqa_requests_finished_total{reason=\"stop\"}"), 1);
  EXPECT_EQ(SampleValue(r->body, "gqa_requests_finished_total{reason=\"error\"}"), 0);

  // Later observations show in the next scrape.
  metrics.ObserveRequestFinished(1.0, 3, 2, "error");
  r = HttpRequest((*exposer)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(SampleValue(r->body, "gqa_requests_finished_total{reason=\"error\"}"), 1);
}

// civetweb matches handler URIs by prefix, so /metrics/anything also serves.
TEST(MetricsExposerTest, OtherPathsAre404) {
  ServingMetrics metrics(TestInfo());
  auto exposer = MetricsExposer::Start("127.0.0.1", 0, metrics);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  for (const char* path : {"/", "/metric", "/favicon.ico", "/api/v1/query"}) {
    absl::StatusOr<HttpResponse> r = HttpRequest((*exposer)->port(), "GET", path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 404) << path;
  }
}

TEST(MetricsExposerTest, BusyPortIsAClearError) {
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

  ServingMetrics metrics(TestInfo());
  auto exposer = MetricsExposer::Start("127.0.0.1", busy_port, metrics);
  close(fd);
  ASSERT_FALSE(exposer.ok());
  EXPECT_EQ(exposer.status().code(), absl::StatusCode::kUnavailable);
  const std::string message(exposer.status().message());
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(busy_port)), std::string::npos) << message;
  EXPECT_NE(message.find("Address already in use"), std::string::npos) << message;
}

TEST(MetricsExposerTest, TwoExposersOnPortZeroGetDifferentPorts) {
  ServingMetrics a_metrics(TestInfo());
  ServingMetrics b_metrics(TestInfo());
  b_metrics.CountPreemptions(7);
  auto a = MetricsExposer::Start("127.0.0.1", 0, a_metrics);
  auto b = MetricsExposer::Start("127.0.0.1", 0, b_metrics);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->port(), (*b)->port());
  absl::StatusOr<HttpResponse> r = HttpRequest((*b)->port(), "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(SampleValue(r->body, "gqa_preemptions_total"), 7);
}

TEST(MetricsExposerTest, RejectsBadArguments) {
  ServingMetrics metrics(TestInfo());
  EXPECT_EQ(MetricsExposer::Start("127.0.0.1", 70000, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsExposer::Start("127.0.0.1", -1, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsExposer::Start("not an address", 0, metrics).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(MetricsExposerTest, StopsInDestructorAndOutlivesNothing) {
  int port;
  {
    auto metrics = std::make_unique<ServingMetrics>(TestInfo());
    auto exposer = MetricsExposer::Start("127.0.0.1", 0, *metrics);
    ASSERT_TRUE(exposer.ok()) << exposer.status();
    port = (*exposer)->port();
    // The exposer holds the registry weakly: a scrape after the metrics died
    // serves only the exposer's own families.
    metrics.reset();
    absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", "/metrics");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(GqaSampleLines(r->body).empty()) << r->body;
  }
  // Nothing listens any more: connecting is refused.
  EXPECT_EQ(HttpRequest(port, "GET", "/metrics").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gqa
