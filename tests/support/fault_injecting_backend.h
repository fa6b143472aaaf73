// FaultInjectingBackend: the CPU backend with a device failure on cue, for
// tests of what the engine and server do when a backend fails mid-run (the
// CUDA backend latches its first CUDA error the same way: ops keep returning,
// status() reports the error, results are garbage).
//
// It fails at the `fail_at`-th SiluMul call (one per layer per step): from
// then on status() is INTERNAL and every op still runs on the CPU backend
// underneath, so nothing crashes and only status() tells.
//
// Thread ownership: as Backend (one thread at a time).
#pragma once

#include "absl/status/status.h"
#include "tests/support/forwarding_backend.h"

namespace gqa::testing {

class FaultInjectingBackend final : public ForwardingBackend {
 public:
  explicit FaultInjectingBackend(int fail_at, int threads = 2)
      : ForwardingBackend(MakeCpuBackend(threads)), fail_at_(fail_at) {}

  absl::Status status() const override { return status_; }

  void SiluMul(const Tensor& gate_up, Tensor out) override {
    if (++num_silu_calls_ == fail_at_) {
      status_ = absl::InternalError("injected device fault (an illegal memory access, say)");
    }
    ForwardingBackend::SiluMul(gate_up, out);
  }

 private:
  const int fail_at_;
  int num_silu_calls_ = 0;
  absl::Status status_;
};

}  // namespace gqa::testing
