#include "engine/chat/lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/chat/value.h"

namespace gqa::chat {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
         (c >= 0x1c && c <= 0x1f);
}
bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80);
}
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status SyntaxError(int line, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  absl::StatusOr<std::vector<Token>> Run();

 private:
  bool At(size_t p, std::string_view s) const { return src_.compare(p, s.size(), s) == 0; }
  void Emit(TokenKind kind, std::string text = "") {
    tokens_.push_back(Token{kind, std::move(text), line_});
  }
  // Consumes src_[pos_, end) into line counting.
  void Advance(size_t end) {
    for (size_t i = pos_; i < end; ++i) line_ += src_[i] == '\n';
    pos_ = end;
  }
  // Emits `text` as data after applying the tag's whitespace sign.
  void EmitData(std::string_view text, char sign, bool is_variable);
  // Length of a block end at p ("-%}\s*", "+%}", "%}\n?"), 0 if none.
  size_t BlockEndAt(size_t p) const;
  absl::Status LexRaw();
  absl::Status LexExpression(bool is_block);
  absl::Status LexString();
  bool LexNumber();

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

void Lexer::EmitData(std::string_view text, char sign, bool is_variable) {
  if (sign == '-') {
    size_t end = text.size();
    while (end > 0 && IsSpace(text[end - 1])) --end;
    text = text.substr(0, end);
  } else if (sign != '+' && !is_variable) {
    size_t nl = text.rfind('\n');
    size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
      bool all_space = true;
      for (size_t i = l_pos; i < text.size(); ++i) all_space = all_space && IsSpace(text[i]);
      if (all_space) text = text.substr(0, l_pos);
    }
  }
  if (!text.empty()) Emit(TokenKind::kData, std::string(text));
}

size_t Lexer::BlockEndAt(size_t p) const {
  if (At(p, "+%}")) return 3;
  if (At(p, "-%}")) {
    size_t q = p + 3;
    while (q < src_.size() && IsSpace(src_[q])) ++q;
    return q - p;
  }
  if (At(p, "%}")) return p + 2 < src_.size() && src_[p + 2] == '\n' ? 3 : 2;
  return 0;
}

absl::StatusOr<std::vector<Token>> Lexer::Run() {
  while (pos_ < src_.size()) {
    // The next "{{", "{%" or "{#" (one forward scan: the input may be huge).
    size_t tag = pos_;
    while ((tag = src_.find('{', tag)) != std::string::npos && tag + 1 < src_.size() &&
           src_[tag + 1] != '{' && src_[tag + 1] != '%' && src_[tag + 1] != '#') {
      ++tag;
    }
    if (tag == std::string::npos || tag + 1 >= src_.size()) {
      Emit(TokenKind::kData, src_.substr(pos_));
      Advance(src_.size());
      break;
    }
    std::string_view text(src_.data() + pos_, tag - pos_);
    char kind = src_[tag + 1];
    size_t p = tag + 2;
    char sign = p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p] : 0;
    if (sign) ++p;
    if (kind == '%') {  // {% raw %}?
      size_t q = p;
      while (q < src_.size() && IsSpace(src_[q])) ++q;
      if (At(q, "raw") && !(q + 3 < src_.size() && IsNameChar(src_[q + 3]))) {
        size_t r = q + 3;
        while (r < src_.size() && IsSpace(src_[r])) ++r;
        size_t end = 0;
        if (At(r, "-%}")) {
          end = r + 3;
          while (end < src_.size() && IsSpace(src_[end])) ++end;
        } else if (At(r, "%}")) {
          end = r + 2;
        }
        if (end) {
          EmitData(text, sign, false);
          Advance(end);
          line_starting_ = src_[end - 1] == '\n';
          absl::Status s = LexRaw();
          if (!s.ok()) return s;
          continue;
        }
      }
    }
    EmitData(text, sign, kind == '{');
    Advance(p);
    if (kind == '#') {
      size_t q = pos_;
      while (true) {
        q = src_.find("#}", q);
        if (q == std::string::npos) return SyntaxError(line_, "Missing end of comment tag");
        size_t end = q + 2;
        if (q > pos_ && (src_[q - 1] == '-' || src_[q - 1] == '+')) {
          if (src_[q - 1] == '-') {
            while (end < src_.size() && IsSpace(src_[end])) ++end;
          }
        } else if (end < src_.size() && src_[end] == '\n') {
          ++end;
        }
        Advance(end);
        line_starting_ = src_[end - 1] == '\n';
        break;
      }
      continue;
    }
    Emit(kind == '{' ? TokenKind::kVarBegin : TokenKind::kBlockBegin);
    absl::Status s = LexExpression(kind == '%');
    if (!s.ok()) return s;
  }
  Emit(TokenKind::kEof);
  return std::move(tokens_);
}

absl::Status Lexer::LexRaw() {
  // The first `{%[-+]? endraw %}` ends the raw text.
  size_t q = pos_;
  while (true) {
    q = src_.find("{%", q);
    if (q == std::string::npos) return SyntaxError(line_, "Missing end of raw directive");
    size_t p = q + 2;
    char sign = p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p] : 0;
    if (sign) ++p;
    while (p < src_.size() && IsSpace(src_[p])) ++p;
    if (!At(p, "endraw")) {
      q += 2;
      continue;
    }
    p += 6;
    while (p < src_.size() && IsSpace(src_[p])) ++p;
    size_t end_len = BlockEndAt(p);
    if (end_len == 0) {
      q += 2;
      continue;
    }
    EmitData(std::string_view(src_.data() + pos_, q - pos_), sign, false);
    Advance(p + end_len);
    line_starting_ = src_[pos_ - 1] == '\n';
    return absl::OkStatus();
  }
}

absl::Status Lexer::LexString() {
  char quote = src_[pos_];
  std::string out;
  size_t p = pos_ + 1;
  int start_line = line_;
  while (true) {
    if (p >= src_.size()) return SyntaxError(start_line, "unexpected end of string literal");
    char c = src_[p];
    if (c == quote) break;
    if (c != '\\') {
      out += c;
      ++p;
      continue;
    }
    if (p + 1 >= src_.size()) return SyntaxError(start_line, "unexpected end of string literal");
    char e = src_[p + 1];
    p += 2;
    switch (e) {
      case '\n':
        break;  // line continuation
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        char32_t cp = 0;
        for (int k = 0; k < n; ++k) {
          int d = p + k < src_.size() ? HexDigit(src_[p + k]) : -1;
          if (d < 0)
            return SyntaxError(start_line,
                               absl::StrCat("truncated \\", std::string(1, e), " escape"));
          cp = cp * 16 + d;
        }
        if (cp > 0x10ffff) return SyntaxError(start_line, "illegal Unicode character");
        p += n;
        AppendUtf8(cp, out);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = e - '0';
          for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k) {
            cp = cp * 8 + (src_[p++] - '0');
          }
          AppendUtf8(cp, out);
        } else if (e == 'N') {
          return SyntaxError(start_line, "\\N{...} escapes are not supported");
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  Emit(TokenKind::kString, std::move(out));
  Advance(p + 1);
  return absl::OkStatus();
}

// Jinja2's float_re before integer_re: digits with '_' separators, a fraction
// and/or an exponent; "1." is an int and a dot.
bool Lexer::LexNumber() {
  auto digits = [&](size_t p) {  // end of (\d+_)*\d+ at p, or p
    size_t q = p;
    while (q < src_.size() && IsDigit(src_[q])) {
      while (q < src_.size() && IsDigit(src_[q])) ++q;
      if (q + 1 < src_.size() && src_[q] == '_' && IsDigit(src_[q + 1])) ++q;
    }
    return q;
  };
  size_t p = pos_;
  if (!IsDigit(src_[p])) return false;
  std::string clean;
  auto strip = [&](size_t a, size_t b) {
    for (size_t i = a; i < b; ++i) {
      if (src_[i] != '_') clean += src_[i];
    }
  };
  bool after_dot = p > 0 && src_[p - 1] == '.';
  if (!after_dot) {
    size_t q = digits(p);
    size_t frac = q;
    if (q + 1 < src_.size() && src_[q] == '.' && IsDigit(src_[q + 1])) frac = digits(q + 1);
    size_t exp = frac;
    if (exp < src_.size() && (src_[exp] == 'e' || src_[exp] == 'E')) {
      size_t r = exp + 1;
      if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
      if (r < src_.size() && IsDigit(src_[r])) exp = digits(r);
    }
    if (exp != q) {
      strip(p, exp);
      tokens_.push_back(Token{TokenKind::kFloat, src_.substr(p, exp - p), line_, 0,
                              std::strtod(clean.c_str(), nullptr)});
      Advance(exp);
      return true;
    }
  }
  size_t q = p;
  int base = 10;
  if (src_[p] == '0' && p + 1 < src_.size() && std::strchr("bBoOxX", src_[p + 1]) &&
      src_[p + 1] != 0) {
    char b = std::tolower(src_[p + 1]);
    base = b == 'b' ? 2 : b == 'o' ? 8 : 16;
    q = p + 2;
    while (q < src_.size() && ((HexDigit(src_[q]) >= 0 && HexDigit(src_[q]) < base) ||
                               (src_[q] == '_' && q + 1 < src_.size()))) {
      if (src_[q] == '_' && !(HexDigit(src_[q + 1]) >= 0 && HexDigit(src_[q + 1]) < base)) break;
      ++q;
    }
    if (q == p + 2) {  // "0x" alone: the int 0, then a name
      base = 10;
      q = p + 1;
    } else {
      strip(p + 2, q);
    }
  } else {
    q = digits(p);
    if (src_[p] == '0') {  // decimal zero: 0(_?0)*
      q = p + 1;
      while (q < src_.size() &&
             (src_[q] == '0' || (src_[q] == '_' && q + 1 < src_.size() && src_[q + 1] == '0')))
        ++q;
    }
    strip(p, q);
  }
  if (base == 10 && clean.empty()) clean = "0";
  errno = 0;
  int64_t value = std::strtoll(clean.c_str(), nullptr, base);
  Token t{TokenKind::kInt, src_.substr(p, q - p), line_, value};
  if (errno == ERANGE) t.kind = TokenKind::kOperator, t.text = "<int overflow>";
  tokens_.push_back(std::move(t));
  Advance(q);
  return true;
}

absl::Status Lexer::LexExpression(bool is_block) {
  std::vector<char> balance;  // closing brackets expected, innermost last
  while (true) {
    if (pos_ >= src_.size()) {
      return SyntaxError(line_,
                         is_block ? "unexpected end of template, expected end of statement block"
                                  : "unexpected end of template, expected end of print statement");
    }
    if (balance.empty()) {
      size_t end = 0;
      if (is_block) {
        end = BlockEndAt(pos_);
      } else if (At(pos_, "-}}")) {
        end = 3;
        while (pos_ + end < src_.size() && IsSpace(src_[pos_ + end])) ++end;
      } else if (At(pos_, "}}")) {
        end = 2;
      }
      if (end) {
        Emit(is_block ? TokenKind::kBlockEnd : TokenKind::kVarEnd);
        Advance(pos_ + end);
        line_starting_ = src_[pos_ - 1] == '\n';
        return absl::OkStatus();
      }
    }
    char c = src_[pos_];
    if (IsSpace(c)) {
      Advance(pos_ + 1);
      continue;
    }
    if (LexNumber()) {
      if (tokens_.back().text == "<int overflow>")
        return SyntaxError(line_, "integer literal too large");
      continue;
    }
    if (IsNameStart(c)) {
      size_t q = pos_;
      while (q < src_.size() && IsNameChar(src_[q])) ++q;
      Emit(TokenKind::kName, src_.substr(pos_, q - pos_));
      Advance(q);
      continue;
    }
    if (c == '\'' || c == '"') {
      absl::Status s = LexString();
      if (!s.ok()) return s;
      continue;
    }
    static const char* kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                 "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                 ">",  "<",  "=",  ".",  ":",  "|",  ",", ";"};
    const char* op = nullptr;
    for (const char* o : kOps) {
      if (At(pos_, o)) {
        op = o;
        break;
      }
    }
    if (!op) return SyntaxError(line_, absl::StrCat("unexpected char '", std::string(1, c), "'"));
    std::string o(op);
    if (o == "(" || o == "[" || o == "{") {
      balance.push_back(o == "(" ? ')' : o == "[" ? ']' : '}');
    } else if (o == ")" || o == "]" || o == "}") {
      if (balance.empty()) return SyntaxError(line_, absl::StrCat("unexpected '", o, "'"));
      if (balance.back() != o[0]) {
        return SyntaxError(line_, absl::StrCat("unexpected '", o, "', expected '",
                                               std::string(1, balance.back()), "'"));
      }
      balance.pop_back();
    }
    Emit(TokenKind::kOperator, o);
    Advance(pos_ + o.size());
  }
}

}  // namespace

absl::StatusOr<std::vector<Token>> Lex(std::string_view source) {
  std::string s;
  s.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      s += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      s += source[i];
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return Lexer(std::move(s)).Run();
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kData:
      return "template data";
    case TokenKind::kVarBegin:
      return "begin of print statement";
    case TokenKind::kVarEnd:
      return "end of print statement";
    case TokenKind::kBlockBegin:
      return "begin of statement block";
    case TokenKind::kBlockEnd:
      return "end of statement block";
    case TokenKind::kEof:
      return "end of template";
    case TokenKind::kString:
      return "string";
    default:
      return "'" + token.text + "'";
  }
}

}  // namespace gqa::chat
