#include "engine/tokenizer/hf/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/tokenizer/hf/unicode_classes.h"
#include "engine/tokenizer/hf/unicode_text.h"

namespace gqa::hf {
namespace {

// Per-thread match state: match data with room for the whole-match pair only
// (rc == 0 then means "matched, groups not stored", which is all we need) and
// a JIT stack large enough for long inputs.
struct ThreadMatchState {
  pcre2_match_data* match_data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;

  ThreadMatchState() {
    match_data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (context != nullptr && jit_stack != nullptr) {
      pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(match_data);
  }
};

ThreadMatchState& MatchState() {
  thread_local ThreadMatchState state;
  return state;
}

// Rewrites Oniguruma class escapes (\s \S \w \W \d \D \h \H, \p{X} \P{X}
// \p{^X} for the classes in unicode_classes.h) as explicit code point
// classes, so that PCRE2 (older Unicode tables; other meanings for \s, which
// takes U+180E, \w, which lacks marks, and \h, a horizontal space where Ruby
// means a hex digit) matches what HF's Oniguruma matches. Everything else
// passes through. Inside [...] a positive class
// becomes class contents; a negated one inside [...] is left to PCRE2 (no
// tokenizer uses that).
std::string TranslateOnigPattern(std::string_view pattern) {
  std::string out;
  int class_depth = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const std::size_t escape_begin = i;
      const char e = pattern[++i];
      std::string name;
      bool negated = false;
      if (std::string_view("sSwWdDhH").find(e) != std::string_view::npos) {
        name = std::string(1, static_cast<char>(std::tolower(e)));
        negated = std::isupper(static_cast<unsigned char>(e)) != 0;
      } else if ((e == 'p' || e == 'P') && i + 1 < pattern.size() && pattern[i + 1] == '{') {
        const std::size_t close = pattern.find('}', i + 2);
        if (close != std::string_view::npos) {
          name = std::string(pattern.substr(i + 2, close - i - 2));
          negated = e == 'P';
          if (!name.empty() && name[0] == '^') {
            name.erase(0, 1);
            negated = !negated;
          }
          if (UnicodeClassPattern(name) != nullptr) {
            i = close;
          } else {
            name.clear();
          }
        }
      }
      const std::string* contents = name.empty() ? nullptr : UnicodeClassPattern(name);
      if (contents == nullptr || (class_depth > 0 && negated)) {
        out.append(pattern.substr(escape_begin, i + 1 - escape_begin));
      } else if (class_depth > 0) {
        out += *contents;
      } else {
        out += negated ? "[^" : "[";
        out += *contents;
        out += ']';
      }
      continue;
    }
    if (c == '[') {
      ++class_depth;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && class_depth > 0) --class_depth;
    out += c;
  }
  return out;
}

}  // namespace

Regex::Regex(std::string pattern, void* code, bool jit)
    : pattern_(std::move(pattern)), code_(code), jit_(jit) {}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

absl::StatusOr<std::unique_ptr<Regex>> Regex::Compile(std::string_view pattern) {
  const std::string translated = TranslateOnigPattern(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return absl::InvalidArgumentError(absl::StrCat("regex /", std::string(pattern),
                                                   "/ does not compile at offset ", error_offset,
                                                   ": ", reinterpret_cast<const char*>(message)));
  }
  const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return std::unique_ptr<Regex>(new Regex(std::string(pattern), code, jit));
}

void Regex::FindAll(std::string_view text, std::vector<Span>* matches) const {
  ThreadMatchState& state = MatchState();
  auto* code = static_cast<pcre2_code*>(code_);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t start = 0;
  std::size_t last_match_end = SIZE_MAX;
  while (start <= text.size()) {
    // The text was validated once by the caller; don't re-check it per call.
    const int rc = jit_ ? pcre2_jit_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                          state.match_data, state.context)
                        : pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                      state.match_data, state.context);
    int result = rc;
    if (result == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Deeply nested backtracking: the interpreter keeps its frames on the heap.
      result = pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, state.match_data,
                           nullptr);
    }
    if (result < 0) return;  // PCRE2_ERROR_NOMATCH (or a heap limit): no more matches
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.match_data);
    const std::size_t begin = ovector[0];
    const std::size_t end = ovector[1];
    if (begin == end && end == last_match_end) {
      // Empty match right after the previous one: step one character on.
      if (start >= text.size()) return;
      start += Utf8CharLength(static_cast<unsigned char>(text[start]));
      continue;
    }
    matches->emplace_back(begin, end);
    last_match_end = end;
    start = end;
  }
}

}  // namespace gqa::hf
