// FaultInjectingBackend: a backend (the CPU one by default) with device faults
// on cue, for tests of what the engine and server do when the device fails.
// Each fault is what a GPU does:
//
//   fail_silu_at = N    the N-th SiluMul call (one per layer per step) latches
//                       INTERNAL, as the CUDA backend latches its first CUDA
//                       error: every op still runs on the backend underneath,
//                       so nothing crashes and only status() tells.
//   fail_allocation_of_bytes = B
//                       Allocate(B) fails with RESOURCE_EXHAUSTED (cudaMalloc's
//                       out-of-memory). The engine allocates its device memory
//                       (weights, the KV pool, activations) at Create only, so
//                       this is a startup fault; at run time KV blocks come
//                       from the pool by id and admission checks capacity, so
//                       no allocation can fail mid-run.
//   hang_silu_at = N    the N-th SiluMul call blocks until Release(): a kernel
//                       that never completes, for the step watchdog.
//
// Thread ownership: as Backend (one thread at a time: the engine's), except
// WaitUntilHung and Release, which any thread may call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/support/forwarding_backend.h"

namespace gqa::testing {

struct FaultPlan {
  int fail_silu_at = 0;                 // 0: never
  size_t fail_allocation_of_bytes = 0;  // 0: never
  int hang_silu_at = 0;                 // 0: never
};

class FaultInjectingBackend final : public ForwardingBackend {
 public:
  FaultInjectingBackend(const FaultPlan& plan, std::unique_ptr<Backend> inner)
      : ForwardingBackend(std::move(inner)), plan_(plan) {}
  explicit FaultInjectingBackend(const FaultPlan& plan, int threads = 2)
      : FaultInjectingBackend(plan, MakeCpuBackend(threads)) {}
  // The forward-pass fault alone.
  explicit FaultInjectingBackend(int fail_at, int threads = 2)
      : FaultInjectingBackend(FaultPlan{.fail_silu_at = fail_at}, threads) {}

  absl::Status status() const override { return status_; }

  absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) override {
    if (plan_.fail_allocation_of_bytes != 0 && bytes == plan_.fail_allocation_of_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("injected out of device memory allocating ", bytes, " bytes"));
    }
    return ForwardingBackend::Allocate(bytes);
  }

  void SiluMul(const Tensor& gate_up, Tensor out) override {
    ++num_silu_calls_;
    if (num_silu_calls_ == plan_.fail_silu_at) {
      status_ = absl::InternalError("injected device fault (an illegal memory access, say)");
    }
    if (num_silu_calls_ == plan_.hang_silu_at) Hang();
    ForwardingBackend::SiluMul(gate_up, out);
  }

  // True once the hang began (within `timeout`).
  bool WaitUntilHung(std::chrono::nanoseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return hung_; });
  }
  // Ends the hang (or prevents it, if it has not begun).
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  void Hang() {
    std::unique_lock<std::mutex> lock(mu_);
    hung_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }

  const FaultPlan plan_;
  int num_silu_calls_ = 0;
  absl::Status status_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hung_ = false;      // guarded by mu_
  bool released_ = false;  // guarded by mu_
};

}  // namespace gqa::testing
