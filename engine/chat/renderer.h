// Renderer: runs a parsed template over a context, as jinja2's compiled
// template would. One Renderer per render; not thread-safe (a ChatTemplate
// makes a fresh one for each Render, so templates are shared freely).
//
// Scoping follows jinja2: the template's top level is one frame, each for
// loop and each macro call adds a frame (a `set` inside stays inside), if
// and filter blocks do not. Namespaces are the way out of a loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/chat/ast.h"
#include "engine/chat/value.h"

namespace gqa::chat {

// Bounds that turn runaway templates into errors instead of a crash or an
// endless render. jinja2 stops at Python's recursion limit (~1000 frames,
// several per macro call); we allow a little less macro nesting.
struct RenderLimits {
  size_t max_output_bytes = 64u << 20;  // also bounds any one string value
  int max_call_depth = 100;             // nested macro calls
  int64_t max_steps = 5'000'000;        // evaluated nodes and loop iterations
};

class Renderer {
 public:
  // `root` must outlive the Renderer; `context` holds the render variables.
  Renderer(const Body& root, Dict context, RenderLimits limits);

  absl::StatusOr<std::string> Render();

 private:
  using Frame = absl::flat_hash_map<std::string, Value>;
  enum class Flow { kNormal, kBreak, kContinue };

  // Statements (renderer.cc).
  absl::Status Exec(const Body& body, std::string& out);
  absl::Status ExecStmt(const Stmt& s, std::string& out);
  absl::Status ExecFor(const Stmt& s, std::string& out);
  absl::Status Assign(const Stmt& s, Value value);
  // Runs a macro (or a call block's body, as `caller`) with its arguments.
  absl::StatusOr<Value> CallMacro(const Stmt& macro,
                                  const std::vector<std::weak_ptr<Frame>>& closure, CallArgs& args);
  absl::Status Append(std::string& out, std::string_view text);
  absl::Status Step(int line);

  // Expressions (renderer_expr.cc).
  absl::StatusOr<Value> Eval(const Expr& e);
  absl::StatusOr<Value> EvalBinary(const Expr& e);
  absl::StatusOr<Value> EvalCompare(const Expr& e);
  absl::StatusOr<Value> EvalSlice(const Expr& e);
  absl::StatusOr<Value> EvalFilter(const Expr& e, const Value* block_input);
  absl::StatusOr<CallArgs> EvalArgs(const Expr& e, size_t first_arg);
  Value Lookup(const std::string& name) const;

  const Body& root_;
  RenderLimits limits_;
  Frame globals_;                               // context + built-in globals
  std::vector<std::shared_ptr<Frame>> frames_;  // [0] template top level, innermost last
  Flow flow_ = Flow::kNormal;
  int call_depth_ = 0;
  int64_t steps_ = 0;
  int line_ = 1;  // line of the statement running, for error messages
};

}  // namespace gqa::chat
