// The backend flags gqa-server and gqa-generate share: --backend, --dtype,
// --kv-cache-dtype, --device, --threads (and the server's
// --gpu-memory-utilization on its own).
#pragma once

#include "flags/flag_parser.h"
#include "engine/runner/backend_setup.h"

namespace gqa {

// Binds the shared backend flags to `options`.
void AddBackendFlags(FlagParser& parser, BackendSetupOptions* options);

// INVALID_ARGUMENT naming the flag for a negative --threads or --device.
absl::Status ValidateBackendFlags(const BackendSetupOptions& options);

}  // namespace gqa
