// LiveRequestIds: the ids clients gave their live requests
// (GenerateRequest.request_id, or an HTTP front end's request id) mapped to
// the engine's own ids, so that Abort can find a request by its client's id
// and no two live requests share one. Every front end of one server uses the
// same registry (ServingContext::live_ids), so an id is unique across them.
//
// The life of an id (empty ids are never registered; their Lease is empty):
//
//   StatusOr<Lease> lease = ids.Acquire(client_id, engine_id);  // ALREADY_EXISTS if live
//   engine.Submit(...);                   // refused: drop the Lease, the id is free
//   if (lease->MarkSubmitted()) engine.Abort(engine_id);  // an Abort came in before
//   ...                                   // Abort(client_id) now reaches the engine
//   lease->Release();                     // at the final delta, before the client sees it
//
// Releasing before the final message goes out means a client that has read
// its answer can reuse the id at once. A Lease releases on destruction too.
//
// Thread ownership: thread-safe (one mutex, never held while calling out).
// A Lease is used by one thread at a time (its call's pump holder).
#pragma once

#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace gqa {

class LiveRequestIds {
 public:
  class Lease {
   public:
    Lease() = default;  // empty: nothing registered
    ~Lease() { Release(); }
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // The request was submitted: from now on Abort calls abort_engine for it.
    // True when an Abort named it before; the caller then aborts it itself.
    bool MarkSubmitted();
    // Frees the id (idempotent).
    void Release();
    bool empty() const { return ids_ == nullptr; }

   private:
    friend class LiveRequestIds;
    Lease(LiveRequestIds* ids, std::string client_id)
        : ids_(ids), client_id_(std::move(client_id)) {}
    LiveRequestIds* ids_ = nullptr;
    std::string client_id_;
  };

  // Registers `client_id` for the request the engine knows as `engine_id`.
  // ALREADY_EXISTS (naming the id) while `client_id` is live; an empty
  // `client_id` gives an empty Lease.
  absl::StatusOr<Lease> Acquire(const std::string& client_id, const std::string& engine_id);

  // Aborts the live requests among `client_ids`: abort_engine(engine_id) for
  // each one already submitted; one not yet submitted is marked (its
  // MarkSubmitted returns true). Returns the live ids found, in order, each
  // once; empty and unknown ids are left out.
  std::vector<std::string> Abort(std::span<const std::string> client_ids,
                                 const std::function<void(const std::string&)>& abort_engine);

  int size() const;  // live ids

 private:
  struct Entry {
    std::string engine_id;
    bool submitted = false;
    bool abort_requested = false;  // before submission
  };
  void Release(const std::string& client_id);
  bool MarkSubmitted(const std::string& client_id);

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> live_;  // guarded by mu_
};

}  // namespace gqa
