#include "engine/tokenizer/byte_tokenizer.h"

#include "absl/strings/str_format.h"

namespace gqa {
namespace {

constexpr std::string_view kSpecialPieces[] = {"<unk>", "<s>", "</s>"};

}  // namespace

std::vector<int> ByteTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int> ids;
  ids.reserve(text.size() + 1);
  if (add_special_tokens) ids.push_back(kBosId);
  for (const char c : text) ids.push_back(kFirstByteId + static_cast<unsigned char>(c));
  return ids;
}

std::string ByteTokenizer::Decode(std::span<const int> ids, bool skip_special_tokens) const {
  std::string out;
  out.reserve(ids.size());
  for (const int id : ids) {
    if (id < 0 || id >= kVocabSize) continue;
    if (id < kFirstByteId) {
      if (!skip_special_tokens) out.append(kSpecialPieces[id]);
      continue;
    }
    out.push_back(static_cast<char>(id - kFirstByteId));
  }
  return out;
}

std::string ByteTokenizer::TokenString(int id) const {
  if (id < 0 || id >= kVocabSize) return "";
  if (id < kFirstByteId) return std::string(kSpecialPieces[id]);
  return absl::StrFormat("<0x%02X>", id - kFirstByteId);
}

}  // namespace gqa
