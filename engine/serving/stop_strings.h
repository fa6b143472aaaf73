// StopStrings: finds stop strings in generated text as it grows, and says how
// much of the text's tail must be held back from a stream because it could
// still turn into one (so a client never sees the start of a stop string
// that the final text does not contain).
//
// Thread ownership: immutable after construction.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gqa {

class StopStrings {
 public:
  struct Match {
    size_t pos;     // byte offset of the stop string in the text
    size_t length;  // its length in bytes
  };

  StopStrings() = default;
  explicit StopStrings(std::vector<std::string> stops);

  bool empty() const { return stops_.empty(); }

  // The earliest stop string in `text` that ends after byte `old_size` (text
  // before it was searched already). Among stops at the same position, the
  // first in the list wins.
  std::optional<Match> FindNew(std::string_view text, size_t old_size) const;

  // Length of the longest suffix of `text` that is a proper prefix of some
  // stop string. Such a suffix starts at a UTF-8 character boundary when
  // `text` and the stops are valid UTF-8.
  size_t HoldBack(std::string_view text) const;

 private:
  std::vector<std::string> stops_;  // non-empty strings
  size_t max_length_ = 0;
};

}  // namespace gqa
