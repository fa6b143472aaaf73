#include "engine/tokenizer/hf/json_fields.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gqa::hf {
namespace {

absl::Status FieldError(const std::string& where, std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ".", std::string(key), ": ", std::string(what)));
}

// The field, or nullptr when missing or null. `obj` must be an object.
absl::StatusOr<const nlohmann::json*> Find(const nlohmann::json& obj, std::string_view key,
                                           const std::string& where) {
  if (!obj.is_object())
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an object"));
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

absl::StatusOr<std::string> GetString(const nlohmann::json& obj, std::string_view key,
                                      const std::string& where) {
  auto field = Find(obj, key, where);
  if (!field.ok()) return field.status();
  if (*field == nullptr) return FieldError(where, key, "missing");
  if (!(*field)->is_string()) return FieldError(where, key, "expected a string");
  return (*field)->get<std::string>();
}

absl::StatusOr<std::optional<std::string>> GetOptionalString(const nlohmann::json& obj,
                                                             std::string_view key,
                                                             const std::string& where) {
  auto field = Find(obj, key, where);
  if (!field.ok()) return field.status();
  if (*field == nullptr) return std::optional<std::string>();
  if (!(*field)->is_string()) return FieldError(where, key, "expected a string or null");
  return std::optional<std::string>((*field)->get<std::string>());
}

absl::StatusOr<bool> GetBool(const nlohmann::json& obj, std::string_view key,
                             const std::string& where, bool fallback) {
  auto field = Find(obj, key, where);
  if (!field.ok()) return field.status();
  if (*field == nullptr) return fallback;
  if (!(*field)->is_boolean()) return FieldError(where, key, "expected true or false");
  return (*field)->get<bool>();
}

absl::StatusOr<int64_t> GetInt(const nlohmann::json& obj, std::string_view key,
                               const std::string& where, int64_t fallback) {
  auto field = Find(obj, key, where);
  if (!field.ok()) return field.status();
  if (*field == nullptr) return fallback;
  if (!(*field)->is_number_integer()) return FieldError(where, key, "expected an integer");
  return (*field)->get<int64_t>();
}

absl::StatusOr<const nlohmann::json*> GetArray(const nlohmann::json& obj, std::string_view key,
                                               const std::string& where) {
  auto field = Find(obj, key, where);
  if (!field.ok()) return field.status();
  if (*field == nullptr) return FieldError(where, key, "missing");
  if (!(*field)->is_array()) return FieldError(where, key, "expected an array");
  return *field;
}

absl::StatusOr<const nlohmann::json*> GetObject(const nlohmann::json& obj, std::string_view key,
                                                const std::string& where) {
  auto field = Find(obj, key, where);
  if (!field.ok()) return field.status();
  if (*field == nullptr) return FieldError(where, key, "missing");
  if (!(*field)->is_object()) return FieldError(where, key, "expected an object");
  return *field;
}

}  // namespace gqa::hf
