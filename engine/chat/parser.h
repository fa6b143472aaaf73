// Parser: tokens -> syntax tree, following jinja2's grammar (parser.py):
// precedence from loosest: `a if c else b`, or, and, not, comparisons and
// (not) in, + -, ~, * / // %, **, unary - +, then postfix (.attr, [item],
// [a:b:c], (call)) and filters / tests (`|f(...)`, `is [not] t`).
//
// An unknown filter or test is a parse error, except inside an `if` or a
// conditional expression where jinja2 defers it to render time (then only
// an evaluated one fails).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "engine/chat/ast.h"

namespace gqa::chat {

// Syntax errors are InvalidArgument("line N: ..."). Nesting deeper than
// kMaxParseDepth (brackets, operators, blocks) is an error, not a stack overflow.
inline constexpr int kMaxParseDepth = 200;

absl::StatusOr<Body> ParseTemplate(std::string_view source);

}  // namespace gqa::chat
