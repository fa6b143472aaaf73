#include "engine/tokenizer/hf/post_processor.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/tokenizer/hf/json_fields.h"

namespace gqa::hf {
namespace {

class TemplateProcessor final : public PostProcessor {
 public:
  TemplateProcessor(std::vector<int> before, std::vector<int> after)
      : before_(std::move(before)), after_(std::move(after)) {}
  void Process(std::vector<int>* ids) const override {
    ids->insert(ids->begin(), before_.begin(), before_.end());
    ids->insert(ids->end(), after_.begin(), after_.end());
  }

 private:
  std::vector<int> before_, after_;
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps)
      : steps_(std::move(steps)) {}
  void Process(std::vector<int>* ids) const override {
    for (const auto& step : steps_) step->Process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

class IdentityProcessor final : public PostProcessor {
 public:
  void Process(std::vector<int>* /*ids*/) const override {}
};

// "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, ...]
// with "special_tokens": {"<s>": {"ids": [1], ...}}.
absl::StatusOr<std::unique_ptr<PostProcessor>> TemplateFromJson(const nlohmann::json& json,
                                                                const std::string& where) {
  GQA_ASSIGN_OR_RETURN(const nlohmann::json* single, GetArray(json, "single", where));
  GQA_ASSIGN_OR_RETURN(const nlohmann::json* specials, GetObject(json, "special_tokens", where));
  std::vector<int> before, after;
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single->size(); ++i) {
    const std::string at = absl::StrCat(where, ".single[", i, "]");
    const nlohmann::json& piece = (*single)[i];
    if (piece.contains("Sequence")) {
      GQA_ASSIGN_OR_RETURN(const std::string seq,
                           GetString(piece["Sequence"], "id", at + ".Sequence"));
      if (seq != "A" || seen_sequence) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ": a single template holds sequence A once"));
      }
      seen_sequence = true;
      continue;
    }
    if (!piece.contains("SpecialToken")) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": expected SpecialToken or Sequence"));
    }
    GQA_ASSIGN_OR_RETURN(const std::string name,
                         GetString(piece["SpecialToken"], "id", at + ".SpecialToken"));
    const std::string special_at = absl::StrCat(where, ".special_tokens[\"", name, "\"]");
    if (!specials->contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(special_at, ": missing"));
    }
    GQA_ASSIGN_OR_RETURN(const nlohmann::json* ids, GetArray((*specials)[name], "ids", special_at));
    for (const nlohmann::json& id : *ids) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(special_at, ".ids: expected non-negative integers"));
      }
      (seen_sequence ? after : before).push_back(id.get<int>());
    }
  }
  if (!seen_sequence) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".single: sequence A is missing"));
  }
  return MakeTemplateProcessor(std::move(before), std::move(after));
}

}  // namespace

std::unique_ptr<PostProcessor> MakeTemplateProcessor(std::vector<int> before,
                                                     std::vector<int> after) {
  return std::make_unique<TemplateProcessor>(std::move(before), std::move(after));
}

absl::StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const nlohmann::json& json,
                                                                     const std::string& where) {
  GQA_ASSIGN_OR_RETURN(const std::string type, GetString(json, "type", where));
  if (type == "TemplateProcessing") return TemplateFromJson(json, where);
  if (type == "ByteLevel") return std::make_unique<IdentityProcessor>();
  if (type == "Sequence") {
    GQA_ASSIGN_OR_RETURN(const nlohmann::json* list, GetArray(json, "processors", where));
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (std::size_t i = 0; i < list->size(); ++i) {
      GQA_ASSIGN_OR_RETURN(auto step, PostProcessorFromJson(
                                          (*list)[i], absl::StrCat(where, ".processors[", i, "]")));
      steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceProcessor>(std::move(steps));
  }
  return absl::UnimplementedError(
      absl::StrCat(where, ": post_processor type \"", type, "\" is not supported"));
}

}  // namespace gqa::hf
