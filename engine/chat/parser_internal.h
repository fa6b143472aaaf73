// The recursive-descent parser behind ParseTemplate, shared by parser.cc
// (statements) and parser_expr.cc (expressions). Internal to engine/chat.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/chat/ast.h"
#include "engine/chat/lexer.h"
#include "engine/chat/parser.h"
#include "engine/common/status_macros.h"

namespace gqa::chat::internal {

using EndTags = std::vector<std::string>;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  absl::StatusOr<Body> ParseAll() {
    GQA_ASSIGN_OR_RETURN(Body body, Subparse({}));
    if (Cur().kind != TokenKind::kEof) return Fail(Cur().line, "unexpected end tag");
    return body;
  }

 private:
  const Token& Cur() const { return toks_[pos_]; }
  const Token& Peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void Next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool IsOp(std::string_view op) const {
    return Cur().kind == TokenKind::kOperator && Cur().text == op;
  }
  bool IsName(std::string_view name) const {
    return Cur().kind == TokenKind::kName && Cur().text == name;
  }
  absl::Status Fail(int line, const std::string& msg) const {
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", msg));
  }
  absl::Status Expected(const std::string& what) const {
    if (Cur().kind == TokenKind::kEof) {
      return Fail(Cur().line, absl::StrCat("unexpected end of template, expected ", what, "."));
    }
    return Fail(Cur().line, absl::StrCat("expected token ", what, ", got ", DescribeToken(Cur())));
  }
  absl::Status ExpectOp(std::string_view op) {
    if (!IsOp(op)) return Expected(absl::StrCat("'", std::string(op), "'"));
    Next();
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ExpectName() {
    if (Cur().kind != TokenKind::kName) return Expected("name");
    std::string n = Cur().text;
    Next();
    return n;
  }
  absl::Status ExpectBlockEnd() {
    if (Cur().kind != TokenKind::kBlockEnd) return Expected("'end of statement block'");
    Next();
    return absl::OkStatus();
  }
  // Depth guard for recursive descent.
  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    int& depth;
  };
  absl::Status CheckDepth() const {
    if (depth_ > kMaxParseDepth) return Fail(Cur().line, "template nested too deeply");
    return absl::OkStatus();
  }
  ExprPtr Make(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  absl::StatusOr<Body> Subparse(const EndTags& end_tags);
  absl::StatusOr<StmtPtr> ParseStatement();
  absl::StatusOr<StmtPtr> ParseFor(int line);
  absl::StatusOr<StmtPtr> ParseIf(int line);
  absl::StatusOr<StmtPtr> ParseSet(int line);
  absl::StatusOr<StmtPtr> ParseMacro(int line);
  absl::StatusOr<StmtPtr> ParseCallBlock(int line);
  absl::StatusOr<StmtPtr> ParseFilterBlock(int line);
  // Consumes `{% <one of tags>` after Subparse stopped at it; returns the tag.
  absl::StatusOr<std::string> EndTag(const EndTags& tags);
  absl::Status ParseParams(Stmt& stmt);
  absl::StatusOr<std::vector<std::string>> ParseAssignTargets(bool allow_ns, std::string* attr);

  absl::StatusOr<ExprPtr> ParseTuple(bool with_condexpr, bool explicit_parens,
                                     const std::vector<std::string>& extra_end = {});
  absl::StatusOr<ExprPtr> ParseExpression(bool with_condexpr = true);
  absl::StatusOr<ExprPtr> ParseOr();
  absl::StatusOr<ExprPtr> ParseAnd();
  absl::StatusOr<ExprPtr> ParseNot();
  absl::StatusOr<ExprPtr> ParseCompare();
  absl::StatusOr<ExprPtr> ParseMath1();
  absl::StatusOr<ExprPtr> ParseConcat();
  absl::StatusOr<ExprPtr> ParseMath2();
  absl::StatusOr<ExprPtr> ParsePow();
  absl::StatusOr<ExprPtr> ParseUnary(bool with_filter);
  absl::StatusOr<ExprPtr> ParseUnaryFiltered();
  absl::StatusOr<ExprPtr> ParseLogicalLevel(absl::StatusOr<ExprPtr> (Parser::*sub)(),
                                            Expr::Kind kind, const char* word);
  absl::StatusOr<ExprPtr> ParseBinaryLevel(absl::StatusOr<ExprPtr> (Parser::*sub)(),
                                           std::initializer_list<const char*> ops);
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> ParsePostfix(ExprPtr node);
  absl::StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node);
  absl::StatusOr<ExprPtr> ParseFilter(ExprPtr node, bool start_inline);
  absl::StatusOr<ExprPtr> ParseTest(ExprPtr node);
  absl::StatusOr<ExprPtr> ParseSubscript(ExprPtr node);
  absl::Status ParseCallArgs(Expr& call);

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<std::string> open_blocks_;  // for "innermost block" messages
};

}  // namespace gqa::chat::internal
