// gqa-tokenize-dump: runs HfTokenizer over a corpus for compare_with_hf.py
// (and a GGUF file's tokenizer for compare_gguf_with_hf.py).
//
//   gqa-tokenize-dump --tokenizer=DIR_OR_TOKENIZER_JSON_OR_GGUF --encode=IN.jsonl
//                     --decode=IN.jsonl --out=OUT.jsonl [--info=INFO.json]
//
// --encode lines: {"name": ..., "hex": hex of the text's raw bytes}
//   -> {"name": ..., "ids": Encode(text, false), "ids_special": Encode(text, true)}
// --decode lines: {"name": ..., "ids": [...]}
//   -> {"name": ..., "hex": hex(Decode(ids, false)), "hex_skip": hex(Decode(ids, true))}
// A directory loads tokenizer.json with its tokenizer_config.json; a file path
// loads that tokenizer.json alone; a path ending in .gguf loads that GGUF
// file's tokenizer (LoadGgufTokenizer). --info writes {"vocab_size",
// "bos_id", "eos_ids"}. Bytes travel as hex so that ill-formed UTF-8 survives
// JSON. Exit status 2 on a load or usage error.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/tokenizer/gguf/gguf_tokenizer.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"

namespace {

std::string FromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string ToHex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(digits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

std::string Flag(int argc, char** argv, const std::string& name) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = Flag(argc, argv, "tokenizer");
  const std::string out_path = Flag(argc, argv, "out");
  if (path.empty() || out_path.empty()) {
    std::cerr
        << "usage: gqa-tokenize-dump --tokenizer=PATH [--encode=IN] [--decode=IN] --out=OUT\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<gqa::Tokenizer>> tokenizer;
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) {
    tokenizer = gqa::LoadGgufTokenizer(path);
  } else {
    gqa::HfTokenizerFiles files;
    if (std::filesystem::is_directory(path)) {
      files.tokenizer_json = path + "/tokenizer.json";
      if (std::filesystem::exists(path + "/tokenizer_config.json")) {
        files.tokenizer_config_json = path + "/tokenizer_config.json";
      }
    } else {
      files.tokenizer_json = path;
    }
    tokenizer = gqa::HfTokenizer::Load(files);
  }
  if (!tokenizer.ok()) {
    std::cerr << tokenizer.status() << "\n";
    return 2;
  }
  if (const std::string info = Flag(argc, argv, "info"); !info.empty()) {
    std::ofstream(info) << nlohmann::json{{"vocab_size", (*tokenizer)->vocab_size()},
                                          {"bos_id", (*tokenizer)->bos_id()},
                                          {"eos_ids", (*tokenizer)->eos_ids()}}
                               .dump()
                        << "\n";
  }
  std::ofstream out(out_path);
  std::string line;
  if (const std::string encode = Flag(argc, argv, "encode"); !encode.empty()) {
    std::ifstream in(encode);
    while (std::getline(in, line)) {
      const nlohmann::json item = nlohmann::json::parse(line);
      const std::string text = FromHex(item["hex"].get<std::string>());
      nlohmann::json result = {{"name", item["name"]},
                               {"ids", (*tokenizer)->Encode(text, false)},
                               {"ids_special", (*tokenizer)->Encode(text, true)}};
      out << result.dump() << "\n";
    }
  }
  if (const std::string decode = Flag(argc, argv, "decode"); !decode.empty()) {
    std::ifstream in(decode);
    while (std::getline(in, line)) {
      const nlohmann::json item = nlohmann::json::parse(line);
      const std::vector<int> ids = item["ids"].get<std::vector<int>>();
      nlohmann::json result = {{"name", item["name"]},
                               {"hex", ToHex((*tokenizer)->Decode(ids, false))},
                               {"hex_skip", ToHex((*tokenizer)->Decode(ids, true))}};
      out << result.dump() << "\n";
    }
  }
  return out.good() ? 0 : 2;
}
