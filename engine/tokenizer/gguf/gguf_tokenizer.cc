#include "engine/tokenizer/gguf/gguf_tokenizer.h"

#include <utility>

#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"
#include "engine/tokenizer/gguf/gguf_tokenizer_json.h"

namespace gqa {

absl::StatusOr<std::unique_ptr<HfTokenizer>> TokenizerFromGgufVocab(GgufVocab vocab) {
  const std::string name = vocab.name;
  GQA_ASSIGN_OR_RETURN(GgufTokenizerJson built, BuildGgufTokenizerJson(std::move(vocab)));
  return HfTokenizer::FromRawJson(std::move(built.json), built.specials, name);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGgufTokenizer(const gguf::GgufFile& file) {
  GQA_ASSIGN_OR_RETURN(GgufVocab vocab, ReadGgufVocab(file));
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<HfTokenizer> tokenizer,
                       TokenizerFromGgufVocab(std::move(vocab)));
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGgufTokenizer(const std::string& path) {
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  return LoadGgufTokenizer(*file);
}

}  // namespace gqa
