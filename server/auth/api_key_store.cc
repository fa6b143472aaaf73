#include "server/auth/api_key_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gqa {
namespace {

// SIGHUPs so far. Lock-free, so the handler may touch it.
std::atomic<uint64_t> g_sighups{0};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

void OnSighup(int) { g_sighups.fetch_add(1, std::memory_order_relaxed); }

struct FileRead {
  std::string text;
  struct stat st = {};
};

// The whole file and its stat, or the reason (errno text) it cannot be read.
absl::StatusOr<FileRead> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--api-key-file ", path, ": cannot open it: ", std::strerror(errno)));
  }
  FileRead r;
  absl::Status status;
  if (fstat(fd, &r.st) != 0 || !S_ISREG(r.st.st_mode)) {
    status = absl::InvalidArgumentError(absl::StrCat("--api-key-file ", path, ": not a file"));
  }
  char buffer[4096];
  while (status.ok()) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = absl::InvalidArgumentError(
          absl::StrCat("--api-key-file ", path, ": cannot read it: ", std::strerror(errno)));
      break;
    }
    r.text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (!status.ok()) return status;
  return r;
}

}  // namespace

ApiKeyStore::Digest ApiKeyStore::Sha256(std::string_view text) {
  Digest d{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), d.data(), &size, EVP_sha256(), nullptr);
  return d;
}

absl::StatusOr<std::unique_ptr<ApiKeyStore>> ApiKeyStore::Open(const std::string& path,
                                                               Options options) {
  std::unique_ptr<ApiKeyStore> store(new ApiKeyStore(path, options));
  if (absl::Status s = store->Reload(); !s.ok()) return s;
  if (store->num_keys() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--api-key-file ", path,
                     ": holds no key (one key per line; blank lines and # comments are ignored)"));
  }
  return store;
}

absl::Status ApiKeyStore::Reload() {
  absl::StatusOr<FileRead> file = ReadWholeFile(path_);
  std::lock_guard<std::mutex> lock(mu_);
  last_stat_ = std::chrono::steady_clock::now();
  if (!file.ok()) {
    if (options_.log && digests_) {
      *options_.log << "gqa-server: " << file.status().message() << "; keeping the "
                    << digests_->size() << " keys read before\n";
    }
    return file.status();
  }
  auto digests = std::make_shared<std::vector<Digest>>();
  for (absl::string_view line : absl::StrSplit(file->text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    digests->push_back(Sha256(std::string_view(line.data(), line.size())));
  }
  const bool first = digests_ == nullptr;
  digests_ = std::move(digests);
  const struct stat& st = file->st;
  stamp_ = FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_size),
                     int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  if (options_.log && !first) {
    *options_.log << "gqa-server: --api-key-file " << path_ << " reloaded: " << digests_->size()
                  << " keys\n";
  }
  return absl::OkStatus();
}

void ApiKeyStore::MaybeReload() {
  bool reload = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t sighups = g_sighups.load(std::memory_order_relaxed);
    if (sighups != sighups_seen_) {
      sighups_seen_ = sighups;
      reload = true;
    } else {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_stat_ < options_.recheck_interval) return;
      last_stat_ = now;
      struct stat st = {};
      if (stat(path_.c_str(), &st) != 0) {
        reload = true;  // gone: Reload logs it and keeps the keys
      } else {
        const FileStamp stamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                              static_cast<uint64_t>(st.st_size),
                              int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
        reload = !(stamp == stamp_);
      }
    }
  }
  if (reload) Reload().IgnoreError();  // logged; the old keys stay
}

bool ApiKeyStore::Check(std::string_view header) {
  MaybeReload();
  std::shared_ptr<const std::vector<Digest>> digests;
  {
    std::lock_guard<std::mutex> lock(mu_);
    digests = digests_;
  }
  // "Bearer" SP+ token (RFC 6750 section 2.1; the scheme is case-insensitive).
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(header.data(), kScheme.size()), "bearer") ||
      header[kScheme.size()] != ' ') {
    return false;
  }
  const absl::string_view token = absl::StripAsciiWhitespace(
      absl::string_view(header.data() + kScheme.size(), header.size() - kScheme.size()));
  if (token.empty() || !digests) return false;
  const Digest presented = Sha256(std::string_view(token.data(), token.size()));
  // Every digest is compared in full: no early exit.
  int matches = 0;
  for (const Digest& d : *digests) {
    matches |= CRYPTO_memcmp(d.data(), presented.data(), d.size()) == 0;
  }
  return matches != 0;
}

size_t ApiKeyStore::num_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return digests_ ? digests_->size() : 0;
}

void ApiKeyStore::ReloadOnSighup() {
  struct sigaction action = {};
  action.sa_handler = OnSighup;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &action, nullptr);
}

}  // namespace gqa
