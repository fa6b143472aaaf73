// ApiKeyStore: the API keys of --api-key-file, and the check of a request's
// "authorization: Bearer <key>" against them. Shared by the gRPC service
// (server/auth/call_auth.h) and any other front end (HTTP): one store per
// server, Check() from any thread.
//
//   auto keys = ApiKeyStore::Open("/etc/gqa/keys", {.log = &std::cerr});
//   if (!(*keys)->Check(authorization_header_value)) -> UNAUTHENTICATED / 401
//
// The file: one key per line; blank lines and lines starting with '#' are
// ignored; surrounding whitespace (and a CR) is trimmed.
//
// Reloads, with no thread of its own: Check() re-stats the file at most once
// per `recheck_interval` (default 1 s) and re-reads it when its inode, size
// or mtime changed, and re-reads it at once after a SIGHUP (ReloadOnSighup).
// A reload is paid for by the call that notices it; between stats, a call
// costs one SHA-256 and one comparison per key. A reload that fails (file
// gone, unreadable) keeps the old keys and logs why; one that reads a file
// without keys locks every caller out, as asked.
//
// Secrecy: keys are kept only as SHA-256 digests, compared with CRYPTO_memcmp
// against every digest with no early exit (time does not depend on which key
// matched or how much of it); nothing here ever logs a key or a line of the
// file.
//
// Thread ownership: thread-safe. Check() may reload under mu_; readers share
// an immutable snapshot of the digests.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa {

class ApiKeyStore {
 public:
  struct Options {
    std::chrono::steady_clock::duration recheck_interval = std::chrono::seconds(1);
    std::ostream* log = nullptr;  // reload notices (counts, never keys); null: silent
  };

  // Reads `path`. INVALID_ARGUMENT (naming the file, never its content) when
  // it cannot be read or holds no key.
  static absl::StatusOr<std::unique_ptr<ApiKeyStore>> Open(const std::string& path,
                                                           Options options);

  // True when `authorization_header_value` is "Bearer <key>" (scheme
  // case-insensitive, RFC 6750) for a key of the file. May reload first.
  bool Check(std::string_view authorization_header_value);

  // Re-reads the file now. On error the keys stay as they were.
  absl::Status Reload();

  size_t num_keys() const;
  const std::string& path() const { return path_; }

  // Makes SIGHUP (process-wide, from now on) reload every store at its next
  // Check() instead of ending the process. Call once, before traffic.
  static void ReloadOnSighup();

 private:
  using Digest = std::array<uint8_t, 32>;  // SHA-256
  struct FileStamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };

  ApiKeyStore(std::string path, Options options) : path_(std::move(path)), options_(options) {}
  void MaybeReload();
  static Digest Sha256(std::string_view text);

  const std::string path_;
  const Options options_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<Digest>> digests_;  // guarded by mu_ (the pointer)
  FileStamp stamp_;                                     // guarded by mu_
  std::chrono::steady_clock::time_point last_stat_;     // guarded by mu_
  uint64_t sighups_seen_ = 0;                           // guarded by mu_
};

}  // namespace gqa
