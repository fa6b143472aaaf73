// ParseByteSize: a size flag's value in bytes, for every tool that takes one
// (gqa-server's --kv-cache-memory, --max-message-bytes, --max-prompt-bytes).
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace gqa {

// "4GiB", "512MiB", "64KiB", "1.5g", "1e9", "123456" -> bytes: decimal
// suffixes k/m/g (kb/mb/gb), binary kib/mib/gib, case-insensitive, "b" or
// none for bytes. INVALID_ARGUMENT (quoting `text`) for anything else, a
// negative value or more than 1e18.
absl::StatusOr<size_t> ParseByteSize(const std::string& text);

}  // namespace gqa
