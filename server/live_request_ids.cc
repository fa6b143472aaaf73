#include "server/live_request_ids.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace gqa {

LiveRequestIds::Lease& LiveRequestIds::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    ids_ = other.ids_;
    client_id_ = std::move(other.client_id_);
    other.ids_ = nullptr;
  }
  return *this;
}

bool LiveRequestIds::Lease::MarkSubmitted() {
  return ids_ != nullptr && ids_->MarkSubmitted(client_id_);
}

void LiveRequestIds::Lease::Release() {
  if (ids_ == nullptr) return;
  ids_->Release(client_id_);
  ids_ = nullptr;
}

absl::StatusOr<LiveRequestIds::Lease> LiveRequestIds::Acquire(const std::string& client_id,
                                                              const std::string& engine_id) {
  if (client_id.empty()) return Lease();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = live_.try_emplace(client_id);
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request_id: '", client_id,
        "' is the id of a request still running or waiting; ids must be unique while live"));
  }
  it->second.engine_id = engine_id;
  return Lease(this, client_id);
}

std::vector<std::string> LiveRequestIds::Abort(
    std::span<const std::string> client_ids,
    const std::function<void(const std::string&)>& abort_engine) {
  std::vector<std::string> found;
  std::vector<std::string> engine_ids;  // submitted ones, aborted outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::flat_hash_set<std::string> seen;
    for (const std::string& id : client_ids) {
      auto it = live_.find(id);
      if (it == live_.end() || !seen.insert(id).second) continue;
      found.push_back(id);
      if (it->second.submitted) {
        engine_ids.push_back(it->second.engine_id);
      } else {
        it->second.abort_requested = true;
      }
    }
  }
  // Engine ids are never reused, so aborting one that finished meanwhile is
  // harmless (the engine ignores it).
  for (const std::string& engine_id : engine_ids) abort_engine(engine_id);
  return found;
}

int LiveRequestIds::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(live_.size());
}

void LiveRequestIds::Release(const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(client_id);
}

bool LiveRequestIds::MarkSubmitted(const std::string& client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(client_id);
  if (it == live_.end()) return false;
  it->second.submitted = true;
  return it->second.abort_requested;
}

}  // namespace gqa
