#include "engine/serving/stop_strings.h"

#include <algorithm>

namespace gqa {

StopStrings::StopStrings(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (s.empty()) continue;
    max_length_ = std::max(max_length_, s.size());
    stops_.push_back(std::move(s));
  }
}

std::optional<StopStrings::Match> StopStrings::FindNew(std::string_view text,
                                                       size_t old_size) const {
  // A match that ends after old_size starts after old_size - length.
  std::optional<Match> best;
  for (const std::string& stop : stops_) {
    const size_t from = old_size >= stop.size() ? old_size - stop.size() + 1 : 0;
    const size_t pos = text.find(stop, from);
    if (pos == std::string_view::npos) continue;
    if (!best || pos < best->pos) best = Match{pos, stop.size()};
  }
  return best;
}

size_t StopStrings::HoldBack(std::string_view text) const {
  const size_t longest = std::min(text.size(), max_length_ > 0 ? max_length_ - 1 : 0);
  for (size_t n = longest; n > 0; --n) {
    const std::string_view suffix = text.substr(text.size() - n);
    for (const std::string& stop : stops_) {
      if (stop.size() > n && std::string_view(stop).substr(0, n) == suffix) return n;
    }
  }
  return 0;
}

}  // namespace gqa
