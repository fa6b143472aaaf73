// The syntax tree of a parsed template: expressions and statements as jinja2's
// parser builds them. One node struct per family keeps the evaluator a switch.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/chat/value.h"

namespace gqa::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,  // literal
    kName,     // name
    kList,     // children: items
    kTuple,    // children: items
    kDict,     // children: key0, value0, key1, value1, ...
    kNot,      // children[0]
    kNeg,      // children[0]
    kPos,      // children[0]
    kBinary,   // name: "+", "-", "*", "/", "//", "%", "**", "~"; children[0], children[1]
    kCompare,  // children[0] then one operand per ops[i]: "==", "!=", "<", ">", "<=", ">=", "in",
               // "notin"
    kAnd,      // children[0], children[1]
    kOr,       // children[0], children[1]
    kCond,     // children: value, condition, else value (null: undefined)
    kGetAttr,  // children[0].name
    kGetItem,  // children[0][children[1]]
    kSlice,    // children[0][children[1]:children[2]:children[3]] (each may be null)
    kCall,     // children[0](children[1..], kwargs)
    kFilter,   // children[0] | name(children[1..], kwargs); children[0] null in a filter block
    kTest,     // children[0] is [not] name(children[1..], kwargs)
  };

  Kind kind;
  int line = 1;
  Value literal;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;  // `is not`
  bool known = true;     // filter/test exists (unknown ones fail when evaluated)
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    kData,         // text
    kOutput,       // {{ expr }}
    kIf,           // branches (condition, body), else_body
    kFor,          // targets in expr [if condition]: body [else else_body]
    kSet,          // targets (or target + attr) = expr
    kSetBlock,     // {% set target | filter %}body{% endset %}: filter in expr (may be null)
    kMacro,        // name(params = defaults): body
    kCallBlock,    // {% call(params) expr %}body{% endcall %}
    kFilterBlock,  // expr: a filter chain whose innermost input is null
    kBreak,
    kContinue,
    kScope,  // body only ({% generation %} and friends)
  };

  Kind kind;
  int line = 1;
  std::string text;
  ExprPtr expr;
  ExprPtr condition;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<std::string> targets;
  std::string attr;  // {% set ns.attr = ... %}
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // one per param, null when none
};

}  // namespace gqa::chat
