// HfTokenizer: Hugging Face tokenizer.json tokenizers (BPE: byte-level as in
// Llama 3 / Qwen 2-3, SentencePiece-style with byte fallback as in Llama 2 /
// Mistral / Gemma), token for token the same as HF's `tokenizers` library.
//
// Encode(text): invalid UTF-8 first becomes U+FFFD per maximal ill-formed
// subpart (what Python's bytes.decode(errors="replace") gives HF), then HF's
// pipeline: added tokens -> normalizer -> pre-tokenizer -> BPE -> (with
// add_special_tokens) post-processor.
// Decode(ids): HF's decode (unknown ids dropped; special added tokens dropped
// when skip_special_tokens), returning bytes: see decoders.h for how those
// relate to HF's string (an incomplete trailing character stays raw).
//
// Special tokens: bos_id() is tokenizer_config.json's bos_token (else
// generation_config.json's bos_token_id, else -1); eos_ids() are
// tokenizer_config.json's eos_token(s) then generation_config.json's
// eos_token_id(s), without repeats. When tokenizer_config.json sets
// add_bos_token or add_eos_token, the post-processor becomes
// "[bos] $A [eos]" accordingly, as transformers' fast tokenizers rebuild it;
// a key left out keeps what tokenizer.json's template does.
//
// Thread ownership: immutable after loading; every method is const and
// thread-safe (each Encode call has its own scratch memory).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/tokenizer/tokenizer.h"

namespace gqa {

namespace hf {
struct RawTokenizerJson;
}  // namespace hf

// Paths of the files one tokenizer is read from; empty = absent.
struct HfTokenizerFiles {
  std::string tokenizer_json;          // required
  std::string tokenizer_config_json;   // optional
  std::string generation_config_json;  // optional
};

// Special tokens given directly, as a GGUF file's metadata gives them,
// instead of by tokenizer_config.json / generation_config.json.
struct HfSpecialTokens {
  int bos_id = -1;
  int eos_id = -1;           // what add_eos appends
  std::vector<int> eos_ids;  // eos_ids(): every token that ends generation
  bool add_bos = false;      // with add_special_tokens: [bos] $A
  bool add_eos = false;      // with add_special_tokens: $A [eos]
};

class HfTokenizer final : public Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<HfTokenizer>> Load(const HfTokenizerFiles& files);
  // From file contents (tests); empty config texts mean absent files.
  static absl::StatusOr<std::unique_ptr<HfTokenizer>> FromJsonText(
      std::string_view tokenizer_json, std::string_view tokenizer_config_json = "",
      std::string_view generation_config_json = "");
  // From a tokenizer.json document built in code (its post_processor is
  // replaced by the one `specials` asks for); `name` for error messages.
  static absl::StatusOr<std::unique_ptr<HfTokenizer>> FromRawJson(hf::RawTokenizerJson raw,
                                                                  const HfSpecialTokens& specials,
                                                                  const std::string& name);
  ~HfTokenizer() override;

  int vocab_size() const override;
  int bos_id() const override;
  std::vector<int> eos_ids() const override;
  std::vector<int> Encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string Decode(std::span<const int> ids, bool skip_special_tokens = true) const override;
  std::string TokenString(int id) const override;

  // The id of a vocabulary entry or added token (added tokens first, as HF).
  std::optional<int> TokenToId(std::string_view token) const;
  // True when the BPE model reads raw bytes (byte-level fast path).
  bool byte_level_input() const;

 private:
  struct Impl;
  explicit HfTokenizer(std::unique_ptr<Impl> impl);
  // FromJsonText, with the files' names for error messages.
  static absl::StatusOr<std::unique_ptr<HfTokenizer>> Build(std::string_view tokenizer_json,
                                                            std::string_view tokenizer_config_json,
                                                            std::string_view generation_config_json,
                                                            const HfTokenizerFiles& names);
  std::unique_ptr<Impl> impl_;
};

// Reads tokenizer.json, and tokenizer_config.json / generation_config.json
// when present, from `model_dir`. A path to a file is taken as the
// tokenizer.json itself (LoadHfTokenizerFile).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& model_dir);

// Reads the tokenizer.json at `path`, plus tokenizer_config.json and
// generation_config.json when present in the same directory.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizerFile(const std::string& path);

}  // namespace gqa
