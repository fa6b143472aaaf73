// gqa-server's security and limit flags (ParseServerArgs with SecurityFlags),
// --metrics-host, and where /metrics then listens.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_options.h"
#include "tests/server/server_test_util.h"

namespace gqa::testing {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ServerOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "gqa-server");
  return ParseServerArgs(static_cast<int>(args.size()), args.data());
}

TEST(SecurityFlagsTest, Defaults) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  const SecurityOptions& s = o->security;
  EXPECT_FALSE(s.tls.enabled());
  EXPECT_TRUE(s.api_key_file.empty());
  EXPECT_EQ(s.max_message_bytes, size_t{4} << 20);
  EXPECT_EQ(s.prompt.max_prompt_bytes, size_t{1} << 20);
  EXPECT_EQ(s.prompt.max_prompt_tokens, 0);
  EXPECT_EQ(s.max_concurrent_streams, 1024);
  EXPECT_EQ(o->metrics_host, "");
}

TEST(SecurityFlagsTest, EveryFlag) {
  absl::StatusOr<ServerOptions> o = Parse(
      {"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem", "--api-key-file",
       "keys", "--max-message-bytes", "64KiB", "--max-prompt-bytes", "1000", "--max-prompt-tokens",
       "2048", "--max-concurrent-streams", "8", "--metrics-host", "127.0.0.1"});
  ASSERT_TRUE(o.ok()) << o.status();
  const SecurityOptions& s = o->security;
  EXPECT_EQ(s.tls.cert_file, "c.pem");
  EXPECT_EQ(s.tls.key_file, "k.pem");
  EXPECT_EQ(s.tls.client_ca_file, "ca.pem");
  EXPECT_EQ(s.api_key_file, "keys");
  EXPECT_EQ(s.max_message_bytes, 65536u);
  EXPECT_EQ(s.prompt.max_prompt_bytes, 1000u);
  EXPECT_EQ(s.prompt.max_prompt_tokens, 2048);
  EXPECT_EQ(s.max_concurrent_streams, 8);
  EXPECT_EQ(o->metrics_host, "127.0.0.1");
  EXPECT_EQ(Parse({"--max-prompt-bytes", "0"})->security.prompt.max_prompt_bytes, 0u);
}

TEST(SecurityFlagsTest, BadValuesNameTheFlag) {
  const std::vector<std::pair<std::vector<const char*>, const char*>> cases = {
      {{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
      {{"--tls-key", "k.pem"}, "--tls-cert and --tls-key go together"},
      {{"--tls-client-ca", "ca.pem"}, "--tls-client-ca needs --tls-cert"},
      {{"--max-message-bytes", "0"}, "--max-message-bytes must be in 1..2147483647"},
      {{"--max-message-bytes", "3GiB"}, "--max-message-bytes must be in 1..2147483647"},
      {{"--max-message-bytes", "lots"}, "--max-message-bytes: 'lots' is not a size"},
      {{"--max-prompt-bytes", "-1"}, "--max-prompt-bytes: '-1' is not a size"},
      {{"--max-prompt-tokens", "-1"}, "--max-prompt-tokens must be >= 0"},
      {{"--max-concurrent-streams", "0"}, "--max-concurrent-streams must be > 0"},
  };
  for (const auto& [args, message] : cases) {
    absl::StatusOr<ServerOptions> o = Parse(args);
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(o.status().message(), HasSubstr(message));
  }
}

// True when a TCP connection to ip:port is accepted.
bool Accepts(const char* ip, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

TEST(MetricsHostTest, MetricsListenWhereMetricsHostSays) {
  ServerOptions o = TestServerOptions();  // gRPC on 127.0.0.1
  o.metrics_port = 0;
  o.metrics_host = "127.0.0.2";  // another loopback address
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  ASSERT_GT(app->metrics_port(), 0);
  EXPECT_TRUE(Accepts("127.0.0.2", app->metrics_port()));
  EXPECT_FALSE(Accepts("127.0.0.1", app->metrics_port()));
  EXPECT_FALSE(Accepts("127.0.0.2", app->port()));  // gRPC stays on --host
}

TEST(MetricsHostTest, DefaultsToTheGrpcHost) {
  ServerOptions o = TestServerOptions();
  o.metrics_port = 0;
  std::unique_ptr<ServerApp> app = StartTestServer(o);
  ASSERT_NE(app, nullptr);
  EXPECT_TRUE(Accepts("127.0.0.1", app->metrics_port()));
  EXPECT_FALSE(Accepts("127.0.0.2", app->metrics_port()));
}

}  // namespace
}  // namespace gqa::testing
