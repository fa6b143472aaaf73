// Token id sequences for tests of the KV and prefix caches.
#pragma once

#include <cstdint>
#include <vector>

namespace gqa {

// `n` token ids: first, first + 1, ...
inline std::vector<int32_t> Tokens(int32_t first, int n) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(first + i);
  return t;
}

// `a` followed by `b`.
inline std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace gqa
