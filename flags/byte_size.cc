#include "flags/byte_size.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gqa {

absl::StatusOr<size_t> ParseByteSize(const std::string& text) {
  const std::string t = absl::AsciiStrToLower(text);
  char* end = nullptr;
  const double value = std::strtod(t.c_str(), &end);
  const std::string suffix = end ? std::string(end) : "";
  double scale = 0;
  if (suffix.empty() || suffix == "b") scale = 1;
  if (suffix == "k" || suffix == "kb") scale = 1e3;
  if (suffix == "m" || suffix == "mb") scale = 1e6;
  if (suffix == "g" || suffix == "gb") scale = 1e9;
  if (suffix == "kib") scale = 1024.0;
  if (suffix == "mib") scale = 1024.0 * 1024;
  if (suffix == "gib") scale = 1024.0 * 1024 * 1024;
  if (t.empty() || end == t.c_str() || scale == 0 || !std::isfinite(value) || value < 0 ||
      value * scale > 1e18) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a size in bytes (e.g. 4GiB, 512MiB, 1e9)"));
  }
  return static_cast<size_t>(value * scale);
}

}  // namespace gqa
