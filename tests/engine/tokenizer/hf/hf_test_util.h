// Helpers for the HF tokenizer tests: small tokenizer.json documents built in
// code, and the real tokenizers in ../shared/models/tokenizers loaded once.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_paths.h"

namespace gqa::testing {

// {"type": "BPE", ...} over `vocab` (token -> id) and "a b" merges.
inline nlohmann::json BpeModelJson(const std::map<std::string, int>& vocab,
                                   const std::vector<std::string>& merges) {
  nlohmann::json v = nlohmann::json::object();
  for (const auto& [token, id] : vocab) v[token] = id;
  return {{"type", "BPE"},     {"dropout", nullptr},     {"unk_token", nullptr},
          {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
          {"vocab", v},        {"merges", merges}};
}

// A whole tokenizer.json around `model`; other components null unless set.
inline nlohmann::json TokenizerJson(nlohmann::json model) {
  return {{"version", "1.0"},          {"truncation", nullptr},
          {"padding", nullptr},        {"added_tokens", nlohmann::json::array()},
          {"normalizer", nullptr},     {"pre_tokenizer", nullptr},
          {"post_processor", nullptr}, {"decoder", nullptr},
          {"model", std::move(model)}};
}

inline nlohmann::json AddedTokenJson(int id, const std::string& content, bool special,
                                     bool lstrip = false, bool rstrip = false,
                                     bool single_word = false, bool normalized = false) {
  return {{"id", id},          {"content", content}, {"single_word", single_word},
          {"lstrip", lstrip},  {"rstrip", rstrip},   {"normalized", normalized},
          {"special", special}};
}

inline std::unique_ptr<HfTokenizer> MakeTokenizer(const nlohmann::json& tokenizer_json,
                                                  const std::string& config = "",
                                                  const std::string& generation = "") {
  auto tok = HfTokenizer::FromJsonText(tokenizer_json.dump(), config, generation);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? *std::move(tok) : nullptr;
}

// ../shared/models/tokenizers/<name> (llama3, qwen3, gemma3, spm32k) with its
// tokenizer_config.json, loaded once per binary; nullptr when absent (skip).
inline const HfTokenizer* SharedHfTokenizer(const std::string& name) {
  static auto* const kLoaded = new std::map<std::string, std::unique_ptr<HfTokenizer>>();
  const auto dir = SharedModelsDir();
  if (!dir) return nullptr;
  auto it = kLoaded->find(name);
  if (it == kLoaded->end()) {
    const auto folder = *dir / "tokenizers" / name;
    HfTokenizerFiles files;
    files.tokenizer_json = (folder / "tokenizer.json").string();
    files.tokenizer_config_json = (folder / "tokenizer_config.json").string();
    auto tok = HfTokenizer::Load(files);
    if (!tok.ok()) {
      ADD_FAILURE() << tok.status();
      return nullptr;
    }
    it = kLoaded->emplace(name, *std::move(tok)).first;
  }
  return it->second.get();
}

}  // namespace gqa::testing
