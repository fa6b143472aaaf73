// Throw-away certificates for the TLS tests, made at test time by
// make_test_certs.sh (Debian's openssl CLI) in a scratch directory; see that
// script for what each file is. Tests GTEST_SKIP when openssl is missing.
#pragma once

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "tests/support/test_paths.h"

namespace gqa::testing {

class TestCertificates {
 public:
  // False when the certificates could not be made (no openssl).
  bool Make() {
    const std::string command = std::string("sh '") + GQA_SOURCE_DIR +
                                "/tests/server/security/make_test_certs.sh' '" +
                                dir_.path().string() + "' >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }
  std::string Path(const std::string& name) const { return dir_.File(name); }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  ScratchDir dir_;
};

}  // namespace gqa::testing
