#include "engine/tokenizer/hf/unicode_classes.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace gqa::hf {
namespace {

struct UnicodeClassTable {
  const char* name;
  const uint32_t (*ranges)[2];  // inclusive [first, last], ascending
  int num_ranges;
};
#include "engine/tokenizer/hf/unicode_classes.inc"

// Ruby's \h is a hex digit.
constexpr uint32_t kHexRanges[][2] = {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};

struct ClassData {
  const uint32_t (*ranges)[2];
  int num_ranges;
  std::string pattern;
};

const ClassData* FindClass(std::string_view name) {
  static const auto* const classes = [] {
    auto* map = new absl::flat_hash_map<std::string, ClassData>();
    auto add = [map](const char* name, const uint32_t(*ranges)[2], int n) {
      std::string pattern;
      for (int i = 0; i < n; ++i) {
        absl::StrAppend(&pattern, "\\x{", absl::Hex(ranges[i][0]), "}");
        if (ranges[i][1] != ranges[i][0])
          absl::StrAppend(&pattern, "-\\x{", absl::Hex(ranges[i][1]), "}");
      }
      (*map)[name] = ClassData{ranges, n, std::move(pattern)};
    };
    for (const UnicodeClassTable& t : kUnicodeClasses) add(t.name, t.ranges, t.num_ranges);
    add("h", kHexRanges, 3);
    return map;
  }();
  const auto it = classes->find(absl::string_view(name.data(), name.size()));
  return it == classes->end() ? nullptr : &it->second;
}

}  // namespace

const std::string* UnicodeClassPattern(std::string_view name) {
  const ClassData* data = FindClass(name);
  return data == nullptr ? nullptr : &data->pattern;
}

bool InUnicodeClass(std::string_view name, char32_t c) {
  const ClassData* data = FindClass(name);
  if (data == nullptr) return false;
  const auto* end = data->ranges + data->num_ranges;
  // The first range whose last code point is >= c.
  const auto* it = std::lower_bound(data->ranges, end, c,
                                    [](const uint32_t(&r)[2], char32_t v) { return r[1] < v; });
  return it != end && (*it)[0] <= c;
}

}  // namespace gqa::hf
