// Lexer: Jinja2 template text -> tokens, with jinja2's whitespace rules as
// transformers configures them (trim_blocks=True, lstrip_blocks=True,
// keep_trailing_newline=False):
//   - "\r\n" and "\r" read as "\n"; one trailing newline of the template is dropped;
//   - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`,
//     `-#}` strip all whitespace after it;
//   - lstrip_blocks: spaces and tabs between a line start and a `{%` or `{#`
//     tag are dropped (not before `{{`, not with `{%+`);
//   - trim_blocks: the first newline after `%}` or `#}` is dropped (not after `+%}`).
// Comments vanish; `{% raw %}...{% endraw %}` becomes one data token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::chat {

enum class TokenKind {
  kData,        // literal template text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // text: the unescaped value
  kInt,
  kFloat,
  kOperator,  // text: "+", "//", "==", "(", ...
  kEof,
};

struct Token {
  TokenKind kind;
  std::string text;
  int line = 1;
  int64_t int_value = 0;
  double float_value = 0;
};

// Syntax errors are InvalidArgument("line N: ...").
absl::StatusOr<std::vector<Token>> Lex(std::string_view source);

// "end of print statement", "'name'": how an error names a token.
std::string DescribeToken(const Token& token);

}  // namespace gqa::chat
