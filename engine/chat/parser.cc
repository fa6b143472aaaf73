#include "engine/chat/parser.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/chat/builtins.h"
#include "engine/chat/lexer.h"
#include "engine/chat/parser_internal.h"
#include "engine/common/status_macros.h"

namespace gqa::chat::internal {

absl::StatusOr<Body> Parser::Subparse(const EndTags& end_tags) {
  DepthGuard guard(depth_);
  GQA_RETURN_IF_ERROR(CheckDepth());
  Body body;
  while (true) {
    const Token& t = Cur();
    switch (t.kind) {
      case TokenKind::kEof:
        if (!end_tags.empty()) {
          return Fail(t.line, absl::StrCat("Unexpected end of template. Jinja was looking for the "
                                           "following tags: '",
                                           absl::StrJoin(end_tags, "' or '"),
                                           "'. The innermost block that needs to be closed is '",
                                           open_blocks_.back(), "'."));
        }
        return body;
      case TokenKind::kData: {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kData;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        Next();
        break;
      }
      case TokenKind::kVarBegin: {
        int line = t.line;
        Next();
        GQA_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(true, false));
        if (Cur().kind != TokenKind::kVarEnd) return Expected("'end of print statement'");
        Next();
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = line;
        s->expr = std::move(e);
        body.push_back(std::move(s));
        break;
      }
      case TokenKind::kBlockBegin: {
        const Token& name = Peek();
        if (name.kind == TokenKind::kName) {
          for (const std::string& tag : end_tags) {
            if (name.text == tag) return body;
          }
        }
        Next();
        GQA_ASSIGN_OR_RETURN(StmtPtr s, ParseStatement());
        body.push_back(std::move(s));
        break;
      }
      default:
        return Fail(t.line, absl::StrCat("unexpected ", DescribeToken(t)));
    }
  }
}

absl::StatusOr<std::string> Parser::EndTag(const EndTags& tags) {
  Next();  // {%
  std::string tag = Cur().text;
  Next();
  (void)tags;
  return tag;
}

absl::StatusOr<StmtPtr> Parser::ParseStatement() {
  if (Cur().kind != TokenKind::kName) return Fail(Cur().line, "tag name expected");
  std::string tag = Cur().text;
  int line = Cur().line;
  Next();
  open_blocks_.push_back(tag);
  absl::StatusOr<StmtPtr> result;
  if (tag == "for") {
    result = ParseFor(line);
  } else if (tag == "if") {
    result = ParseIf(line);
  } else if (tag == "set") {
    result = ParseSet(line);
  } else if (tag == "macro") {
    result = ParseMacro(line);
  } else if (tag == "call") {
    result = ParseCallBlock(line);
  } else if (tag == "filter") {
    result = ParseFilterBlock(line);
  } else if (tag == "break" || tag == "continue") {
    auto s = std::make_unique<Stmt>();
    s->kind = tag == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
    s->line = line;
    GQA_RETURN_IF_ERROR(ExpectBlockEnd());
    result = std::move(s);
  } else if (tag == "generation") {  // transformers' AssistantTracker: renders its body
    auto s = std::make_unique<Stmt>();
    s->kind = Stmt::Kind::kScope;
    s->line = line;
    GQA_RETURN_IF_ERROR(ExpectBlockEnd());
    GQA_ASSIGN_OR_RETURN(s->body, Subparse({"endgeneration"}));
    GQA_RETURN_IF_ERROR(EndTag({}).status());
    GQA_RETURN_IF_ERROR(ExpectBlockEnd());
    result = std::move(s);
  } else {
    std::string msg = absl::StrCat("Encountered unknown tag '", tag, "'.");
    if (open_blocks_.size() > 1) {
      absl::StrAppend(&msg, " The innermost block that needs to be closed is '",
                      open_blocks_[open_blocks_.size() - 2], "'.");
    }
    return Fail(line, msg);
  }
  open_blocks_.pop_back();
  return result;
}

absl::StatusOr<std::vector<std::string>> Parser::ParseAssignTargets(bool allow_ns,
                                                                    std::string* attr) {
  std::vector<std::string> names;
  bool parens = IsOp("(");
  if (parens) Next();
  while (true) {
    GQA_ASSIGN_OR_RETURN(std::string n, ExpectName());
    if (allow_ns && names.empty() && IsOp(".")) {
      Next();
      GQA_ASSIGN_OR_RETURN(*attr, ExpectName());
      names.push_back(n);
      return names;
    }
    names.push_back(n);
    if (!IsOp(",")) break;
    Next();
    if (parens && IsOp(")")) break;
  }
  if (parens) GQA_RETURN_IF_ERROR(ExpectOp(")"));
  for (const std::string& n : names) {
    if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None" ||
        n == "loop") {
      if (n != "loop") return Fail(Cur().line, absl::StrCat("Can't assign to constant '", n, "'"));
    }
  }
  return names;
}

absl::StatusOr<StmtPtr> Parser::ParseFor(int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kFor;
  s->line = line;
  GQA_ASSIGN_OR_RETURN(s->targets, ParseAssignTargets(false, nullptr));
  if (!IsName("in")) return Expected("'in'");
  Next();
  GQA_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, false, {"recursive"}));
  if (IsName("if")) {
    Next();
    GQA_ASSIGN_OR_RETURN(s->condition, ParseExpression());
  }
  if (IsName("recursive")) return Fail(Cur().line, "recursive loops are not supported");
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  GQA_ASSIGN_OR_RETURN(s->body, Subparse({"endfor", "else"}));
  GQA_ASSIGN_OR_RETURN(std::string tag, EndTag({}));
  if (tag == "else") {
    GQA_RETURN_IF_ERROR(ExpectBlockEnd());
    GQA_ASSIGN_OR_RETURN(s->else_body, Subparse({"endfor"}));
    GQA_RETURN_IF_ERROR(EndTag({}).status());
  }
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseIf(int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kIf;
  s->line = line;
  while (true) {
    GQA_ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(false, false));
    GQA_RETURN_IF_ERROR(ExpectBlockEnd());
    GQA_ASSIGN_OR_RETURN(Body body, Subparse({"elif", "else", "endif"}));
    s->branches.emplace_back(std::move(cond), std::move(body));
    GQA_ASSIGN_OR_RETURN(std::string tag, EndTag({}));
    if (tag == "elif") continue;
    if (tag == "else") {
      GQA_RETURN_IF_ERROR(ExpectBlockEnd());
      GQA_ASSIGN_OR_RETURN(s->else_body, Subparse({"endif"}));
      GQA_RETURN_IF_ERROR(EndTag({}).status());
    }
    break;
  }
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseSet(int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kSet;
  s->line = line;
  GQA_ASSIGN_OR_RETURN(s->targets, ParseAssignTargets(true, &s->attr));
  if (IsOp("=")) {
    Next();
    GQA_ASSIGN_OR_RETURN(s->expr, ParseTuple(true, false));
    GQA_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  s->kind = Stmt::Kind::kSetBlock;
  if (s->targets.size() != 1) return Expected("'='");
  if (IsOp("|")) {
    GQA_ASSIGN_OR_RETURN(s->expr, ParseFilter(nullptr, false));
  }
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  GQA_ASSIGN_OR_RETURN(s->body, Subparse({"endset"}));
  GQA_RETURN_IF_ERROR(EndTag({}).status());
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  return s;
}

absl::Status Parser::ParseParams(Stmt& s) {
  GQA_RETURN_IF_ERROR(ExpectOp("("));
  while (!IsOp(")")) {
    if (!s.params.empty()) GQA_RETURN_IF_ERROR(ExpectOp(","));
    if (IsOp(")")) break;
    GQA_ASSIGN_OR_RETURN(std::string n, ExpectName());
    ExprPtr def;
    if (IsOp("=")) {
      Next();
      GQA_ASSIGN_OR_RETURN(def, ParseExpression());
    } else if (!s.defaults.empty() && s.defaults.back()) {
      return Fail(Cur().line, "non-default argument follows default argument");
    }
    s.params.push_back(n);
    s.defaults.push_back(std::move(def));
  }
  Next();
  return absl::OkStatus();
}

absl::StatusOr<StmtPtr> Parser::ParseMacro(int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kMacro;
  s->line = line;
  GQA_ASSIGN_OR_RETURN(s->name, ExpectName());
  GQA_RETURN_IF_ERROR(ParseParams(*s));
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  GQA_ASSIGN_OR_RETURN(s->body, Subparse({"endmacro"}));
  GQA_RETURN_IF_ERROR(EndTag({}).status());
  if (Cur().kind == TokenKind::kName) Next();  // {% endmacro name %}
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseCallBlock(int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kCallBlock;
  s->line = line;
  if (IsOp("(")) GQA_RETURN_IF_ERROR(ParseParams(*s));
  GQA_ASSIGN_OR_RETURN(s->expr, ParseExpression());
  if (s->expr->kind != Expr::Kind::kCall) return Fail(line, "expected call");
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  GQA_ASSIGN_OR_RETURN(s->body, Subparse({"endcall"}));
  GQA_RETURN_IF_ERROR(EndTag({}).status());
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseFilterBlock(int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kFilterBlock;
  s->line = line;
  GQA_ASSIGN_OR_RETURN(s->expr, ParseFilter(nullptr, true));
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  GQA_ASSIGN_OR_RETURN(s->body, Subparse({"endfilter"}));
  GQA_RETURN_IF_ERROR(EndTag({}).status());
  GQA_RETURN_IF_ERROR(ExpectBlockEnd());
  return s;
}

}  // namespace gqa::chat::internal

namespace gqa::chat {
namespace {

// jinja2 fails at compile time on an unknown filter or test unless it sits in
// an `if` (test or bodies) or a conditional expression (a "soft" frame); a
// loop, macro, call or filter block body starts a hard frame again.
absl::Status CheckExpr(const Expr* e, bool soft);

absl::Status CheckBody(const Body& body, bool soft) {
  for (const StmtPtr& s : body) {
    bool inner_soft = s->kind == Stmt::Kind::kIf;
    if (s->kind == Stmt::Kind::kIf) {
      for (const auto& [cond, branch] : s->branches) {
        GQA_RETURN_IF_ERROR(CheckExpr(cond.get(), true));
        GQA_RETURN_IF_ERROR(CheckBody(branch, true));
      }
      GQA_RETURN_IF_ERROR(CheckBody(s->else_body, true));
      continue;
    }
    GQA_RETURN_IF_ERROR(CheckExpr(s->expr.get(), soft));
    for (const ExprPtr& d : s->defaults) GQA_RETURN_IF_ERROR(CheckExpr(d.get(), false));
    bool body_soft =
        s->kind == Stmt::Kind::kScope || s->kind == Stmt::Kind::kSetBlock ? soft : inner_soft;
    GQA_RETURN_IF_ERROR(CheckExpr(s->condition.get(), false));
    GQA_RETURN_IF_ERROR(CheckBody(s->body, body_soft));
    GQA_RETURN_IF_ERROR(CheckBody(s->else_body, body_soft));
  }
  return absl::OkStatus();
}

absl::Status CheckExpr(const Expr* e, bool soft) {
  if (!e) return absl::OkStatus();
  if (e->kind == Expr::Kind::kCond) soft = true;
  if (!e->known && !soft) {
    return absl::InvalidArgumentError(absl::StrCat("line ", e->line, ": No ",
                                                   e->kind == Expr::Kind::kTest ? "test" : "filter",
                                                   " named '", e->name, "'."));
  }
  for (const ExprPtr& c : e->children) GQA_RETURN_IF_ERROR(CheckExpr(c.get(), soft));
  for (const auto& [k, v] : e->kwargs) GQA_RETURN_IF_ERROR(CheckExpr(v.get(), soft));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Body> ParseTemplate(std::string_view source) {
  GQA_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  internal::Parser parser(std::move(tokens));
  GQA_ASSIGN_OR_RETURN(Body body, parser.ParseAll());
  GQA_RETURN_IF_ERROR(CheckBody(body, false));
  return body;
}

}  // namespace gqa::chat
