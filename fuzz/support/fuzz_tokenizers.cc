#include "fuzz/support/fuzz_tokenizers.h"

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/gguf/gguf_tokenizer.h"
#include "engine/tokenizer/hf/hf_tokenizer.h"
#include "engine/tokenizer/llama2c_tokenizer.h"
#include "nlohmann/json.hpp"

#ifndef GQA_FUZZ_SHARED_DIR
#define GQA_FUZZ_SHARED_DIR ""
#endif

namespace gqa::fuzz {
namespace {

namespace fs = std::filesystem;

// GPT-2's byte -> printable code point table (the byte-level alphabet).
std::string ByteLevelChar(int byte) {
  int cp = byte;
  if (!((byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
        (byte >= 0xAE && byte <= 0xFF))) {
    int n = 0;  // the byte's rank among the unprintable ones
    for (int b = 0; b < byte; ++b) {
      if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))) ++n;
    }
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string BuildTinyBpeJson() {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteLevelChar(b)] = b;
  const std::string sp = ByteLevelChar(' ');
  const std::pair<std::string, std::string> merges[] = {
      {"h", "e"}, {"l", "l"}, {sp, "t"},    {sp + "t", "he"}, {"he", "ll"},      {"hell", "o"},
      {sp, "w"},  {"o", "r"}, {"or", "ld"}, {"l", "d"},       {sp + "w", "orld"}};
  nlohmann::ordered_json merge_list = nlohmann::ordered_json::array();
  int next_id = 256;
  for (const auto& [a, b] : merges) {
    merge_list.push_back(a + " " + b);
    if (!vocab.contains(a + b)) vocab[a + b] = next_id++;
  }
  const nlohmann::ordered_json byte_level = {{"type", "ByteLevel"},
                                             {"add_prefix_space", false},
                                             {"trim_offsets", false},
                                             {"use_regex", true}};
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (const char* special : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) {
    added.push_back({{"id", next_id++},
                     {"content", special},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  const nlohmann::ordered_json doc = {{"version", "1.0"},
                                      {"truncation", nullptr},
                                      {"padding", nullptr},
                                      {"added_tokens", added},
                                      {"normalizer", {{"type", "NFC"}}},
                                      {"pre_tokenizer", byte_level},
                                      {"post_processor", byte_level},
                                      {"decoder", byte_level},
                                      {"model",
                                       {{"type", "BPE"},
                                        {"dropout", nullptr},
                                        {"unk_token", nullptr},
                                        {"continuing_subword_prefix", ""},
                                        {"end_of_word_suffix", ""},
                                        {"fuse_unk", false},
                                        {"byte_fallback", false},
                                        {"vocab", vocab},
                                        {"merges", merge_list}}}};
  return doc.dump();
}

fs::path SharedDir() {
  if (const char* env = std::getenv("GQA_SHARED_DIR"); env != nullptr && *env != '\0') return env;
  return GQA_FUZZ_SHARED_DIR;
}

fs::path DefaultModelGguf() {
  if (const char* env = std::getenv("GQA_DEFAULT_MODEL_GGUF"); env != nullptr && *env != '\0') {
    return env;
  }
  fs::path cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    cache = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr) {
    cache = fs::path(home) / ".cache";
  }
  return cache / "gqa-serve" / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec);
}

std::vector<NamedTokenizer> Load() {
  std::vector<NamedTokenizer> out;
  out.push_back({"byte", std::make_unique<ByteTokenizer>()});
  auto tiny = HfTokenizer::FromJsonText(TinyBpeTokenizerJson());
  if (!tiny.ok()) std::abort();  // a bug in BuildTinyBpeJson, not an input
  out.push_back({"tiny-bpe", *std::move(tiny)});

  const fs::path shared = SharedDir();
  for (const char* bin :
       {"models/llama2-tokenizer/tokenizer.bin", "models/tinystories-tok512/tok512.bin"}) {
    if (!IsFile(shared / bin)) continue;
    auto t = Llama2cTokenizer::Load((shared / bin).string());
    if (t.ok()) out.push_back({bin, *std::move(t)});
  }
  // Not gemma3: its 262K-entry vocabulary costs more start-up than it adds.
  for (const char* dir :
       {"models/tokenizers/spm32k", "models/tokenizers/qwen3", "models/tokenizers/llama3"}) {
    if (!IsFile(shared / dir / "tokenizer.json")) continue;
    auto t = LoadHfTokenizer((shared / dir).string());
    if (t.ok()) out.push_back({dir, *std::move(t)});
  }
  for (const fs::path& gguf_path :
       {shared / "models/tiny-random-gguf/llama-2-tiny-random.gguf", DefaultModelGguf()}) {
    if (!IsFile(gguf_path)) continue;
    auto t = LoadGgufTokenizer(gguf_path.string());
    if (t.ok()) out.push_back({gguf_path.filename().string(), *std::move(t)});
  }
  return out;
}

}  // namespace

const std::string& TinyBpeTokenizerJson() {
  static const std::string* json = new std::string(BuildTinyBpeJson());
  return *json;
}

const std::vector<NamedTokenizer>& FuzzTokenizers() {
  static const std::vector<NamedTokenizer>* tokenizers = new std::vector<NamedTokenizer>(Load());
  return *tokenizers;
}

}  // namespace gqa::fuzz
