// GRPC_SSL_CIPHER_SUITES, gRPC's own override of its TLS 1.2 cipher list,
// changes the HTTPS port's list too (server_ssl_context.h): set here before
// main(), so before gRPC first reads it, to one cipher, both ports accept
// exactly that one of all the TLS 1.2 ciphers OpenSSL can offer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/server/http/https_probe.h"

namespace gqa::testing {
namespace {

using ::testing::ElementsAre;

[[maybe_unused]] const int kCipherEnvSet =
    setenv("GRPC_SSL_CIPHER_SUITES", "ECDHE-ECDSA-AES256-GCM-SHA384", /*overwrite=*/1);

TEST_F(HttpsPolicyTest, GrpcSslCipherSuitesSetsBothPortsCiphers) {
  ASSERT_STREQ(std::getenv("GRPC_SSL_CIPHER_SUITES"), "ECDHE-ECDSA-AES256-GCM-SHA384");
  EXPECT_THAT(AcceptedByBoth(AllTls12CipherProbes()), ElementsAre("ECDHE-ECDSA-AES256-GCM-SHA384"));
}

}  // namespace
}  // namespace gqa::testing
