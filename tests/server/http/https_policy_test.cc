// The HTTPS port's TLS policy is the gRPC port's (server_ssl_context.h): a
// client handshakes with both ports of one server under each TLS version,
// each TLS 1.2 cipher OpenSSL knows, each TLS 1.3 suite and each key exchange
// group, and both ports must accept or refuse it alike. The outcomes are
// pinned too, so a change on either side shows: TLS 1.0/1.1 refused; of the
// TLS 1.2 ciphers exactly gRPC's ECDSA ones (the test certificate is P-256)
// accepted; only P-256 key exchange.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/server/http/https_probe.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAre;

TEST_F(HttpsPolicyTest, Versions) {
  std::vector<std::pair<std::string, Probe>> probes;
  for (const auto& [name, version] :
       std::vector<std::pair<std::string, int>>{{"TLS 1.0", TLS1_VERSION},
                                                {"TLS 1.1", TLS1_1_VERSION},
                                                {"TLS 1.2", TLS1_2_VERSION},
                                                {"TLS 1.3", TLS1_3_VERSION}}) {
    probes.push_back({name, Version(version)});
  }
  EXPECT_THAT(AcceptedByBoth(probes), ElementsAre("TLS 1.2", "TLS 1.3"));
}

TEST_F(HttpsPolicyTest, Tls12Ciphers) {
  const std::vector<std::pair<std::string, Probe>> probes = AllTls12CipherProbes();
  ASSERT_GT(probes.size(), 20u);
  std::vector<std::string> accepted = AcceptedByBoth(probes);
  std::sort(accepted.begin(), accepted.end());
  EXPECT_THAT(accepted,
              ElementsAre("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"));
}

TEST_F(HttpsPolicyTest, Tls13Suites) {
  std::vector<std::pair<std::string, Probe>> probes;
  for (const std::string suite :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}) {
    probes.push_back({suite, [&] {
                        Probe p;
                        p.suite = suite;
                        return p;
                      }()});
  }
  EXPECT_THAT(AcceptedByBoth(probes),
              ElementsAre("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                          "TLS_CHACHA20_POLY1305_SHA256"));
}

TEST_F(HttpsPolicyTest, KeyExchangeGroups) {
  std::vector<std::pair<std::string, Probe>> probes;
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    for (const std::string group : {"X25519", "P-256", "P-384", "P-521", "X448", "ffdhe2048"}) {
      probes.push_back({group + (version == TLS1_2_VERSION ? " TLS 1.2" : " TLS 1.3"), [&] {
                          Probe p = Version(version);
                          p.group = group;
                          return p;
                        }()});
    }
  }
  EXPECT_THAT(AcceptedByBoth(probes), ElementsAre("P-256 TLS 1.2", "P-256 TLS 1.3"));
}

}  // namespace
}  // namespace gqa::testing
