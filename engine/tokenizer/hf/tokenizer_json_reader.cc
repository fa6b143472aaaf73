#include "engine/tokenizer/hf/tokenizer_json_reader.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gqa::hf {
namespace {

// SAX handler: a DOM builder (as nlohmann's json_sax_dom_parser) that diverts
// model.vocab and model.merges into RawTokenizerJson's vectors.
class Reader {
 public:
  Reader(RawTokenizerJson* out, const std::string& file) : out_(out), file_(file) {}

  absl::Status status() const { return status_; }

  bool null() { return Value(nullptr); }
  bool boolean(bool v) { return Value(v); }
  bool number_integer(int64_t v) { return Number(v); }
  bool number_unsigned(uint64_t v) {
    return Number(v > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(v));
  }
  bool number_float(double v, const std::string& /*text*/) {
    if (mode_ != Mode::kNone) return Fail("model.vocab / model.merges: unexpected number");
    return Value(v);
  }
  bool string(std::string& v) {
    if (mode_ == Mode::kMerges) {
      // "a b": exactly one space (HF rejects anything else).
      const std::size_t space = v.find(' ');
      if (space == std::string::npos || v.find(' ', space + 1) != std::string::npos) {
        return Fail(absl::StrCat("model.merges[", out_->merges.size(),
                                 "]: expected \"left right\", got \"", v, "\""));
      }
      out_->merges.emplace_back(v.substr(0, space), v.substr(space + 1));
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      pair_.push_back(std::move(v));
      return true;
    }
    if (mode_ == Mode::kVocab) return Fail("model.vocab: ids must be integers");
    return Value(std::move(v));
  }
  bool binary(nlohmann::json::binary_t& /*v*/) { return Fail("unexpected binary value"); }

  bool start_object(std::size_t /*size*/) {
    if (mode_ != Mode::kNone) return Fail("model.vocab / model.merges: unexpected object");
    if (Depth() == 2 && Parent() == "model" && key_ == "vocab") {
      mode_ = Mode::kVocab;
      out_->has_vocab = true;
      return true;
    }
    return Open(nlohmann::json::object());
  }
  bool key(std::string& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kNone;
      return true;
    }
    return Close();
  }
  bool start_array(std::size_t /*size*/) {
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::kNone) return Fail("model.vocab / model.merges: unexpected array");
    if (Depth() == 2 && Parent() == "model" && key_ == "merges") {
      mode_ = Mode::kMerges;
      out_->has_merges = true;
      return true;
    }
    return Open(nlohmann::json::array());
  }
  bool end_array() {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) {
        return Fail(absl::StrCat("model.merges[", out_->merges.size(),
                                 "]: expected [\"left\", \"right\"]"));
      }
      out_->merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kNone;
      return true;
    }
    return Close();
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(file_, ": not valid JSON at byte ", position, ": ", e.what()));
    return false;
  }

 private:
  enum class Mode { kNone, kVocab, kMerges, kMergePair };

  int Depth() const { return static_cast<int>(stack_.size()); }
  const std::string& Parent() const { return keys_.back(); }

  bool Fail(const std::string& message) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat(file_, ": ", message));
    return false;
  }
  bool Number(int64_t v) {
    if (mode_ == Mode::kVocab) {
      out_->vocab.emplace_back(std::move(key_), v);
      return true;
    }
    if (mode_ != Mode::kNone) return Fail("model.merges: unexpected number");
    return Value(v);
  }
  // Places `v` in the current container (or as the root); returns it.
  nlohmann::json* Place(nlohmann::json&& v) {
    if (stack_.empty()) {
      out_->root = std::move(v);
      return &out_->root;
    }
    nlohmann::json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    nlohmann::json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }
  template <typename T>
  bool Value(T&& v) {
    if (mode_ != Mode::kNone) return Fail("model.vocab / model.merges: unexpected value");
    Place(nlohmann::json(std::forward<T>(v)));
    return true;
  }
  bool Open(nlohmann::json&& container) {
    // The key under which this container sits names it for its children.
    const std::string name = !stack_.empty() && stack_.back()->is_object() ? key_ : "";
    stack_.push_back(Place(std::move(container)));
    keys_.push_back(name);
    return true;
  }
  bool Close() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }

  RawTokenizerJson* out_;
  const std::string& file_;
  absl::Status status_;
  std::vector<nlohmann::json*> stack_;  // open containers, root first
  std::vector<std::string> keys_;       // the key each open container sits under
  std::string key_;                     // the last key read
  Mode mode_ = Mode::kNone;
  std::vector<std::string> pair_;
};

}  // namespace

absl::StatusOr<RawTokenizerJson> ReadTokenizerJson(std::string_view json_text,
                                                   const std::string& file) {
  RawTokenizerJson out;
  Reader reader(&out, file);
  const bool ok = nlohmann::json::sax_parse(json_text.begin(), json_text.end(), &reader);
  if (!ok) {
    if (!reader.status().ok()) return reader.status();
    return absl::InvalidArgumentError(absl::StrCat(file, ": not valid JSON"));
  }
  return out;
}

}  // namespace gqa::hf
