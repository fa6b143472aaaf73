// Expressions of the recursive-descent parser (jinja2 parser.py's parse_*).
#include "engine/chat/builtins.h"
#include "engine/chat/parser_internal.h"
#include "engine/common/status_macros.h"

namespace gqa::chat::internal {

absl::StatusOr<ExprPtr> Parser::ParseTuple(bool with_condexpr, bool explicit_parens,
                                           const std::vector<std::string>& extra_end) {
  int line = Cur().line;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) GQA_RETURN_IF_ERROR(ExpectOp(","));
    TokenKind k = Cur().kind;
    bool at_end = k == TokenKind::kVarEnd || k == TokenKind::kBlockEnd || IsOp(")");
    for (const std::string& n : extra_end) at_end = at_end || IsName(n);
    if (at_end) break;
    GQA_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(with_condexpr));
    items.push_back(std::move(e));
    if (IsOp(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) {
      return Fail(Cur().line, absl::StrCat("Expected an expression, got ", DescribeToken(Cur())));
    }
  }
  ExprPtr t = Make(Expr::Kind::kTuple, line);
  t->children = std::move(items);
  return t;
}

absl::StatusOr<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(depth_);
  GQA_RETURN_IF_ERROR(CheckDepth());
  GQA_ASSIGN_OR_RETURN(ExprPtr expr, ParseOr());
  if (!with_condexpr) return expr;
  while (IsName("if")) {
    int line = Cur().line;
    Next();
    GQA_ASSIGN_OR_RETURN(ExprPtr cond, ParseOr());
    ExprPtr else_expr;
    if (IsName("else")) {
      Next();
      GQA_ASSIGN_OR_RETURN(else_expr, ParseExpression(true));
    }
    ExprPtr c = Make(Expr::Kind::kCond, line);
    c->children.push_back(std::move(expr));
    c->children.push_back(std::move(cond));
    c->children.push_back(std::move(else_expr));
    expr = std::move(c);
  }
  return expr;
}

absl::StatusOr<ExprPtr> Parser::ParseOr() {
  return ParseLogicalLevel(&Parser::ParseAnd, Expr::Kind::kOr, "or");
}

absl::StatusOr<ExprPtr> Parser::ParseAnd() {
  return ParseLogicalLevel(&Parser::ParseNot, Expr::Kind::kAnd, "and");
}

// One left-associative level of `word` (and, or) over `sub`: short-circuit
// nodes of `kind`, unlike ParseBinaryLevel's operators.
absl::StatusOr<ExprPtr> Parser::ParseLogicalLevel(absl::StatusOr<ExprPtr> (Parser::*sub)(),
                                                  Expr::Kind kind, const char* word) {
  GQA_ASSIGN_OR_RETURN(ExprPtr left, (this->*sub)());
  while (IsName(word)) {
    ExprPtr e = Make(kind, Cur().line);
    Next();
    GQA_ASSIGN_OR_RETURN(ExprPtr right, (this->*sub)());
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    left = std::move(e);
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseNot() {
  if (IsName("not")) {
    DepthGuard guard(depth_);
    GQA_RETURN_IF_ERROR(CheckDepth());
    int line = Cur().line;
    Next();
    GQA_ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
    ExprPtr e = Make(Expr::Kind::kNot, line);
    e->children.push_back(std::move(operand));
    return e;
  }
  return ParseCompare();
}

absl::StatusOr<ExprPtr> Parser::ParseCompare() {
  int line = Cur().line;
  GQA_ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (Cur().kind == TokenKind::kOperator &&
        (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" || Cur().text == ">" ||
         Cur().text == "<=" || Cur().text == ">=")) {
      op = Cur().text;
      Next();
    } else if (IsName("in")) {
      op = "in";
      Next();
    } else if (IsName("not") && Peek().kind == TokenKind::kName && Peek().text == "in") {
      op = "notin";
      Next();
      Next();
    } else {
      break;
    }
    if (!cmp) {
      cmp = Make(Expr::Kind::kCompare, line);
      cmp->children.push_back(std::move(first));
    }
    GQA_ASSIGN_OR_RETURN(ExprPtr operand, ParseMath1());
    cmp->ops.push_back(op);
    cmp->children.push_back(std::move(operand));
  }
  return cmp ? std::move(cmp) : std::move(first);
}

namespace {
bool OneOf(const Token& t, std::initializer_list<const char*> ops) {
  if (t.kind != TokenKind::kOperator) return false;
  for (const char* op : ops) {
    if (t.text == op) return true;
  }
  return false;
}
}  // namespace

// One left-associative level of binary operators over `sub`.
absl::StatusOr<ExprPtr> Parser::ParseBinaryLevel(absl::StatusOr<ExprPtr> (Parser::*sub)(),
                                                 std::initializer_list<const char*> ops) {
  GQA_ASSIGN_OR_RETURN(ExprPtr left, (this->*sub)());
  while (OneOf(Cur(), ops)) {
    ExprPtr e = Make(Expr::Kind::kBinary, Cur().line);
    e->name = Cur().text;
    Next();
    GQA_ASSIGN_OR_RETURN(ExprPtr right, (this->*sub)());
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    left = std::move(e);
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseMath1() {
  return ParseBinaryLevel(&Parser::ParseConcat, {"+", "-"});
}
absl::StatusOr<ExprPtr> Parser::ParseConcat() {
  return ParseBinaryLevel(&Parser::ParseMath2, {"~"});
}
absl::StatusOr<ExprPtr> Parser::ParseMath2() {
  return ParseBinaryLevel(&Parser::ParsePow, {"*", "/", "//", "%"});
}
absl::StatusOr<ExprPtr> Parser::ParsePow() {
  return ParseBinaryLevel(&Parser::ParseUnaryFiltered, {"**"});
}
absl::StatusOr<ExprPtr> Parser::ParseUnaryFiltered() { return ParseUnary(true); }

absl::StatusOr<ExprPtr> Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(depth_);
  GQA_RETURN_IF_ERROR(CheckDepth());
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    ExprPtr e = Make(IsOp("-") ? Expr::Kind::kNeg : Expr::Kind::kPos, Cur().line);
    Next();
    GQA_ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
    e->children.push_back(std::move(operand));
    node = std::move(e);
  } else {
    GQA_ASSIGN_OR_RETURN(node, ParsePrimary());
  }
  GQA_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filter) return ParseFilterExpr(std::move(node));
  return node;
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Cur();
  int line = t.line;
  if (t.kind == TokenKind::kName) {
    ExprPtr e = Make(Expr::Kind::kLiteral, line);
    if (t.text == "true" || t.text == "True") {
      e->literal = Value::Bool(true);
    } else if (t.text == "false" || t.text == "False") {
      e->literal = Value::Bool(false);
    } else if (t.text == "none" || t.text == "None") {
      e->literal = Value::None();
    } else {
      e->kind = Expr::Kind::kName;
      e->name = t.text;
    }
    Next();
    return e;
  }
  if (t.kind == TokenKind::kString) {
    std::string s;
    while (Cur().kind == TokenKind::kString) {
      s += Cur().text;
      Next();
    }
    ExprPtr e = Make(Expr::Kind::kLiteral, line);
    e->literal = Value::String(std::move(s));
    return e;
  }
  if (t.kind == TokenKind::kInt || t.kind == TokenKind::kFloat) {
    ExprPtr e = Make(Expr::Kind::kLiteral, line);
    e->literal = t.kind == TokenKind::kInt ? Value::Int(t.int_value) : Value::Float(t.float_value);
    Next();
    return e;
  }
  if (IsOp("(")) {
    Next();
    GQA_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(true, true));
    GQA_RETURN_IF_ERROR(ExpectOp(")"));
    return e;
  }
  if (IsOp("[") || IsOp("{")) {
    bool is_dict = IsOp("{");
    ExprPtr e = Make(is_dict ? Expr::Kind::kDict : Expr::Kind::kList, line);
    Next();
    const char* close = is_dict ? "}" : "]";
    while (!IsOp(close)) {
      if (!e->children.empty()) GQA_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp(close)) break;
      GQA_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
      e->children.push_back(std::move(item));
      if (is_dict) {
        GQA_RETURN_IF_ERROR(ExpectOp(":"));
        GQA_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        e->children.push_back(std::move(value));
      }
    }
    Next();
    return e;
  }
  if (t.kind == TokenKind::kEof) return Fail(line, "unexpected end of template");
  return Fail(line, absl::StrCat("unexpected ", DescribeToken(t)));
}

absl::StatusOr<ExprPtr> Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (IsOp(".") || IsOp("[")) {
      GQA_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
    } else if (IsOp("(")) {
      ExprPtr call = Make(Expr::Kind::kCall, Cur().line);
      call->children.push_back(std::move(node));
      GQA_RETURN_IF_ERROR(ParseCallArgs(*call));
      node = std::move(call);
    } else {
      return node;
    }
  }
}

absl::StatusOr<ExprPtr> Parser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (IsOp("|")) {
      GQA_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), false));
    } else if (IsName("is")) {
      GQA_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
    } else if (IsOp("(")) {
      ExprPtr call = Make(Expr::Kind::kCall, Cur().line);
      call->children.push_back(std::move(node));
      GQA_RETURN_IF_ERROR(ParseCallArgs(*call));
      node = std::move(call);
    } else {
      return node;
    }
  }
}

absl::StatusOr<ExprPtr> Parser::ParseFilter(ExprPtr node, bool start_inline) {
  while (IsOp("|") || start_inline) {
    if (!start_inline) Next();
    start_inline = false;
    int line = Cur().line;
    GQA_ASSIGN_OR_RETURN(std::string name, ExpectName());
    while (IsOp(".")) {
      Next();
      GQA_ASSIGN_OR_RETURN(std::string part, ExpectName());
      absl::StrAppend(&name, ".", part);
    }
    ExprPtr f = Make(Expr::Kind::kFilter, line);
    f->name = name;
    f->known = IsKnownFilter(name);
    f->children.push_back(std::move(node));
    if (IsOp("(")) GQA_RETURN_IF_ERROR(ParseCallArgs(*f));
    node = std::move(f);
  }
  return node;
}

absl::StatusOr<ExprPtr> Parser::ParseTest(ExprPtr node) {
  int line = Cur().line;
  Next();  // is
  bool negated = false;
  if (IsName("not")) {
    negated = true;
    Next();
  }
  GQA_ASSIGN_OR_RETURN(std::string name, ExpectName());
  while (IsOp(".")) {
    Next();
    GQA_ASSIGN_OR_RETURN(std::string part, ExpectName());
    absl::StrAppend(&name, ".", part);
  }
  ExprPtr t = Make(Expr::Kind::kTest, line);
  t->name = name;
  t->known = IsKnownTest(name);
  t->children.push_back(std::move(node));
  TokenKind k = Cur().kind;
  if (IsOp("(")) {
    GQA_RETURN_IF_ERROR(ParseCallArgs(*t));
  } else if ((k == TokenKind::kName || k == TokenKind::kString || k == TokenKind::kInt ||
              k == TokenKind::kFloat || IsOp("[") || IsOp("{")) &&
             !IsName("else") && !IsName("or") && !IsName("and")) {
    if (IsName("is")) return Fail(Cur().line, "You cannot chain multiple tests with is");
    GQA_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
    GQA_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    t->children.push_back(std::move(arg));
  }
  if (!negated) return t;
  ExprPtr n = Make(Expr::Kind::kNot, line);
  n->children.push_back(std::move(t));
  return n;
}

absl::StatusOr<ExprPtr> Parser::ParseSubscript(ExprPtr node) {
  int line = Cur().line;
  if (IsOp(".")) {
    Next();
    if (Cur().kind == TokenKind::kName) {
      ExprPtr e = Make(Expr::Kind::kGetAttr, line);
      e->name = Cur().text;
      e->children.push_back(std::move(node));
      Next();
      return e;
    }
    if (Cur().kind != TokenKind::kInt) return Expected("name or number");
    ExprPtr e = Make(Expr::Kind::kGetItem, line);
    ExprPtr key = Make(Expr::Kind::kLiteral, line);
    key->literal = Value::Int(Cur().int_value);
    Next();
    e->children.push_back(std::move(node));
    e->children.push_back(std::move(key));
    return e;
  }
  Next();  // [
  std::vector<ExprPtr> args;
  while (!IsOp("]")) {
    if (!args.empty()) {
      GQA_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp("]")) break;
    }
    // parse_subscribed: an expression or a slice a:b:c with optional parts.
    ExprPtr start;
    if (!IsOp(":")) {
      GQA_ASSIGN_OR_RETURN(start, ParseExpression());
      if (!IsOp(":")) {
        args.push_back(std::move(start));
        continue;
      }
    }
    Next();  // :
    ExprPtr slice = Make(Expr::Kind::kSlice, line);
    slice->children.push_back(nullptr);  // the sliced object, filled below
    slice->children.push_back(std::move(start));
    ExprPtr stop, step;
    if (!IsOp("]") && !IsOp(",") && !IsOp(":")) {
      GQA_ASSIGN_OR_RETURN(stop, ParseExpression());
    }
    if (IsOp(":")) {
      Next();
      if (!IsOp("]") && !IsOp(",")) {
        GQA_ASSIGN_OR_RETURN(step, ParseExpression());
      }
    }
    slice->children.push_back(std::move(stop));
    slice->children.push_back(std::move(step));
    args.push_back(std::move(slice));
  }
  Next();  // ]
  if (args.empty()) return Fail(line, "expected subscript expression");
  if (args.size() == 1 && args[0]->kind == Expr::Kind::kSlice && !args[0]->children[0]) {
    args[0]->children[0] = std::move(node);
    return std::move(args[0]);
  }
  ExprPtr key;
  if (args.size() == 1) {
    key = std::move(args[0]);
  } else {
    key = Make(Expr::Kind::kTuple, line);
    key->children = std::move(args);
  }
  ExprPtr e = Make(Expr::Kind::kGetItem, line);
  e->children.push_back(std::move(node));
  e->children.push_back(std::move(key));
  return e;
}

absl::Status Parser::ParseCallArgs(Expr& call) {
  GQA_RETURN_IF_ERROR(ExpectOp("("));
  bool first = true;
  while (!IsOp(")")) {
    if (!first) {
      GQA_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp(")")) break;
    }
    first = false;
    if (IsOp("*") || IsOp("**"))
      return Fail(Cur().line, "*args and **kwargs calls are not supported");
    if (Cur().kind == TokenKind::kName && Peek().kind == TokenKind::kOperator &&
        Peek().text == "=") {
      std::string key = Cur().text;
      Next();
      Next();
      GQA_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      call.kwargs.emplace_back(std::move(key), std::move(value));
    } else {
      if (!call.kwargs.empty())
        return Fail(Cur().line, "invalid syntax for function call expression");
      GQA_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      call.children.push_back(std::move(value));
    }
  }
  Next();
  return absl::OkStatus();
}

}  // namespace gqa::chat::internal
