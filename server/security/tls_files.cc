#include "server/security/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

absl::Status Bad(const std::string& flag, const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, ": ", why));
}

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) return Bad(flag, path, "cannot read it");
  return text.str();
}

std::unique_ptr<BIO, BioFree> Bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of a PEM bundle (the leaf of a chain), or null.
std::unique_ptr<X509, X509Free> FirstCertificate(const std::string& pem) {
  auto bio = Bio(pem);
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Reads `path` and checks that it holds a PEM certificate.
absl::StatusOr<std::string> ReadCertificates(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(flag, path);
  if (!pem.ok()) return pem.status();
  if (!FirstCertificate(*pem)) {
    ERR_clear_error();
    return Bad(flag, path, "holds no PEM certificate");
  }
  return pem;
}

}  // namespace

absl::StatusOr<TlsFiles> LoadTlsFiles(const TlsServerOptions& tls) {
  TlsFiles files;
  absl::StatusOr<std::string> cert = ReadCertificates("tls-cert", tls.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("tls-key", tls.key_file);
  if (!key.ok()) return key.status();
  auto key_bio = Bio(*key);
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  const bool matches = pkey && X509_check_private_key(FirstCertificate(*cert).get(), pkey.get());
  ERR_clear_error();
  if (!pkey) return Bad("tls-key", tls.key_file, "holds no unencrypted PEM private key");
  if (!matches) {
    return Bad("tls-key", tls.key_file,
               absl::StrCat("does not match the certificate of --tls-cert ", tls.cert_file));
  }
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadCertificates("tls-client-ca", tls.client_ca_file);
    if (!ca.ok()) return ca.status();
    files.client_ca_pem = *std::move(ca);
  }
  files.cert_chain_pem = *std::move(cert);
  files.key_pem = *std::move(key);
  return files;
}

}  // namespace gqa
