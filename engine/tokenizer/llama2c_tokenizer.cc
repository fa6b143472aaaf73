#include "engine/tokenizer/llama2c_tokenizer.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <queue>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte of a piece of the exact form "<0xHH>", or -1.
int ByteOfPiece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int hi = HexDigit(piece[3]), lo = HexDigit(piece[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// Sequential little-endian reader over the file contents.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::size_t remaining() const { return data_.size() - pos_; }
  bool ReadInt32(int32_t& v) { return ReadRaw(&v, 4); }
  bool ReadFloat(float& v) { return ReadRaw(&v, 4); }
  std::string_view Take(std::size_t n) {
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  bool ReadRaw(void* out, std::size_t n) {
    if (remaining() < n) return false;
    std::memcpy(out, data_.data() + pos_, n);  // x86/ARM hosts are little-endian
    pos_ += n;
    return true;
  }
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Llama2cTokenizer::Load(const std::string& path,
                                                                         int vocab_size) {
  if (vocab_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer ", path, ": vocab_size must be >= 0, got ", vocab_size));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open tokenizer file ", path));
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading tokenizer file ", path));
  return FromBytes(data, path, vocab_size);
}

absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Llama2cTokenizer::FromBytes(
    std::string_view data, const std::string& path, int vocab_size) {
  if (vocab_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer ", path, ": vocab_size must be >= 0, got ", vocab_size));
  }
  auto tok = std::unique_ptr<Llama2cTokenizer>(new Llama2cTokenizer());
  Reader reader(data);
  int32_t max_len = 0;
  if (!reader.ReadInt32(max_len) || max_len < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer ", path,
                     ": not a llama2.c tokenizer.bin (missing or negative max_token_length)"));
  }
  tok->max_token_length_ = max_len;
  const bool until_eof = vocab_size == 0;
  for (int i = 0; until_eof ? reader.remaining() > 0 : i < vocab_size; ++i) {
    float score;
    int32_t len;
    if (!reader.ReadFloat(score) || !reader.ReadInt32(len)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokenizer ", path, ": truncated at token ", i, ": ", reader.remaining(),
                       " byte(s) left where its 8-byte score and length should be",
                       until_eof ? "" : absl::StrCat(" (expected ", vocab_size, " tokens)")));
    }
    if (len < 0 || static_cast<std::size_t>(len) > reader.remaining()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokenizer ", path, ": token ", i, " has length ", len, " but ",
                       reader.remaining(), " byte(s) are left in the file"));
    }
    tok->scores_.push_back(score);
    tok->pieces_.emplace_back(reader.Take(static_cast<std::size_t>(len)));
  }
  if (tok->pieces_.size() <= kEosId) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer ", path, ": has ",
                                                   tok->pieces_.size(),
                                                   " token(s); needs at least <unk>, BOS and EOS"));
  }
  tok->decoded_pieces_.reserve(tok->pieces_.size());
  tok->ids_by_piece_.reserve(tok->pieces_.size());
  for (int id = 0; id < static_cast<int>(tok->pieces_.size()); ++id) {
    const std::string& piece = tok->pieces_[id];
    const int byte = ByteOfPiece(piece);
    tok->decoded_pieces_.push_back(byte < 0 ? piece : std::string(1, static_cast<char>(byte)));
    tok->ids_by_piece_.emplace(piece, id);  // keeps the lowest id of a duplicate
  }
  return tok;
}

int Llama2cTokenizer::LookUp(std::string_view piece) const {
  const auto it = ids_by_piece_.find(piece);
  return it == ids_by_piece_.end() ? -1 : it->second;
}

int Llama2cTokenizer::ByteTokenId(unsigned char byte) const {
  const int id = kFirstByteId + byte;
  return id < vocab_size() ? id : kUnkId;
}

void Llama2cTokenizer::AppendUnitTokens(std::string_view unit, std::vector<int>& tokens) const {
  const int id = LookUp(unit);
  if (id >= 0) {
    tokens.push_back(id);
    return;
  }
  for (char c : unit) tokens.push_back(ByteTokenId(static_cast<unsigned char>(c)));
}

std::vector<int> Llama2cTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int> tokens;
  tokens.reserve(text.size() + 2);
  if (add_special_tokens) tokens.push_back(kBosId);
  if (!text.empty()) AppendUnitTokens(" ", tokens);  // SentencePiece's add_dummy_prefix

  // run.c's loop: a unit restarts at every non-continuation byte, and ends when
  // the next byte is not a continuation byte or the unit holds 4 bytes.
  std::size_t unit_start = 0, unit_len = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!IsContinuationByte(text[i]) || unit_len == 0) {
      unit_start = i;
      unit_len = 0;
    }
    ++unit_len;
    const bool next_is_continuation = i + 1 < text.size() && IsContinuationByte(text[i + 1]);
    if (next_is_continuation && unit_len < 4) continue;
    AppendUnitTokens(text.substr(unit_start, unit_len), tokens);
    unit_len = 0;
  }
  MergePairs(tokens);
  return tokens;
}

void Llama2cTokenizer::MergePairs(std::vector<int>& tokens) const {
  const int n = static_cast<int>(tokens.size());
  if (n < 2) return;
  // Symbols form a linked list in text order; a merge keeps the left symbol.
  // Original indices therefore stay in text order, so "leftmost pair" is
  // "smallest left index" and a heap keyed (score desc, left asc) picks the
  // same pair as run.c's full rescan. Stale heap entries are skipped on pop.
  struct Symbol {
    int id, prev, next;
  };
  struct Candidate {
    float score;
    int left, right, left_id, right_id, merged_id;
  };
  const auto lower_priority = [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  };
  std::vector<Symbol> symbols(n);
  for (int i = 0; i < n; ++i) symbols[i] = {tokens[i], i - 1, i + 1 < n ? i + 1 : -1};
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> heap(
      lower_priority);
  std::string pair;
  const auto push_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    pair = pieces_[symbols[left].id];
    pair += pieces_[symbols[right].id];
    const int merged = LookUp(pair);
    if (merged < 0 || !(scores_[merged] > -1e10f)) return;  // run.c: score > best_score=-1e10
    heap.push({scores_[merged], left, right, symbols[left].id, symbols[right].id, merged});
  };
  for (int i = 0; i + 1 < n; ++i) push_pair(i, i + 1);

  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& left = symbols[c.left];
    if (!alive[c.left] || !alive[c.right] || left.next != c.right || left.id != c.left_id ||
        symbols[c.right].id != c.right_id) {
      continue;
    }
    left.id = c.merged_id;
    left.next = symbols[c.right].next;
    if (left.next >= 0) symbols[left.next].prev = c.left;
    alive[c.right] = false;
    push_pair(left.prev, c.left);
    push_pair(c.left, left.next);
  }
  tokens.clear();
  for (int i = 0; i >= 0; i = symbols[i].next) tokens.push_back(symbols[i].id);
}

std::string Llama2cTokenizer::Decode(std::span<const int> ids, bool skip_special_tokens) const {
  std::string out;
  int prev = -1;
  for (const int id : ids) {
    const bool after_bos = prev == kBosId;
    prev = id;
    if (id < 0 || id >= vocab_size()) continue;
    if (skip_special_tokens && (id == kBosId || id == kEosId)) continue;
    std::string_view piece = decoded_pieces_[id];
    // run.c strips the RAW piece's space, so byte token <0x20> keeps its space.
    if (after_bos && !pieces_[id].empty() && pieces_[id][0] == ' ') piece.remove_prefix(1);
    out.append(piece);
  }
  return out;
}

std::string Llama2cTokenizer::TokenString(int id) const {
  if (id < 0 || id >= vocab_size()) return "";
  return pieces_[id];
}

}  // namespace gqa
