// Typed field access for tokenizer.json / tokenizer_config.json objects with
// errors that name the JSON path ("tokenizer.json: model.merges[3]: ...").
//
// Thread ownership: free functions, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

// A required string field.
absl::StatusOr<std::string> GetString(const nlohmann::json& obj, std::string_view key,
                                      const std::string& where);
// A string field that may be missing or null.
absl::StatusOr<std::optional<std::string>> GetOptionalString(const nlohmann::json& obj,
                                                             std::string_view key,
                                                             const std::string& where);
// A bool field; `fallback` when missing or null.
absl::StatusOr<bool> GetBool(const nlohmann::json& obj, std::string_view key,
                             const std::string& where, bool fallback);
// An integer field; `fallback` when missing or null.
absl::StatusOr<int64_t> GetInt(const nlohmann::json& obj, std::string_view key,
                               const std::string& where, int64_t fallback);
// A required array / object field.
absl::StatusOr<const nlohmann::json*> GetArray(const nlohmann::json& obj, std::string_view key,
                                               const std::string& where);
absl::StatusOr<const nlohmann::json*> GetObject(const nlohmann::json& obj, std::string_view key,
                                                const std::string& where);

}  // namespace gqa::hf
