#include "engine/chat/renderer.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/chat/builtins.h"
#include "engine/common/status_macros.h"

namespace gqa::chat {
namespace {

// Errors get the template line they happened on, once.
absl::Status WithLine(absl::Status s, int line) {
  if (s.ok() || !absl::IsInvalidArgument(s) || absl::StartsWith(s.message(), "line ")) return s;
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", s.message()));
}

}  // namespace

Renderer::Renderer(const Body& root, Dict context, RenderLimits limits)
    : root_(root), limits_(limits) {
  for (auto& [k, v] : MakeGlobals().entries) globals_[k] = std::move(v);
  for (auto& [k, v] : context.entries) globals_[k] = std::move(v);
  frames_.push_back(std::make_shared<Frame>());
}

absl::StatusOr<std::string> Renderer::Render() {
  std::string out;
  GQA_RETURN_IF_ERROR(Exec(root_, out));
  return out;
}

absl::Status Renderer::Step(int line) {
  line_ = line;
  if (++steps_ > limits_.max_steps) {
    return absl::ResourceExhaustedError(absl::StrCat("line ", line, ": template exceeded ",
                                                     limits_.max_steps, " evaluation steps"));
  }
  return absl::OkStatus();
}

absl::Status Renderer::Append(std::string& out, std::string_view text) {
  if (out.size() + text.size() > limits_.max_output_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("line ", line_, ": template output exceeds ",
                                                     limits_.max_output_bytes, " bytes"));
  }
  out.append(text);
  return absl::OkStatus();
}

Value Renderer::Lookup(const std::string& name) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
    auto found = (*it)->find(name);
    if (found != (*it)->end()) return found->second;
  }
  auto found = globals_.find(name);
  if (found != globals_.end()) return found->second;
  return Value::Undefined(name);
}

absl::Status Renderer::Exec(const Body& body, std::string& out) {
  for (const StmtPtr& s : body) {
    GQA_RETURN_IF_ERROR(WithLine(ExecStmt(*s, out), s->line));
    if (flow_ != Flow::kNormal) break;
  }
  return absl::OkStatus();
}

absl::Status Renderer::ExecStmt(const Stmt& s, std::string& out) {
  GQA_RETURN_IF_ERROR(Step(s.line));
  switch (s.kind) {
    case Stmt::Kind::kData:
      return Append(out, s.text);
    case Stmt::Kind::kOutput: {
      GQA_ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
      return Append(out, ToPyStr(v));
    }
    case Stmt::Kind::kIf:
      for (const auto& [cond, branch] : s.branches) {
        GQA_ASSIGN_OR_RETURN(Value c, Eval(*cond));
        if (c.Truthy()) return Exec(branch, out);
      }
      return Exec(s.else_body, out);
    case Stmt::Kind::kFor:
      return ExecFor(s, out);
    case Stmt::Kind::kSet: {
      GQA_ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
      return Assign(s, std::move(v));
    }
    case Stmt::Kind::kSetBlock: {
      std::string captured;
      GQA_RETURN_IF_ERROR(Exec(s.body, captured));
      Value v = Value::String(std::move(captured));
      if (s.expr) {
        GQA_ASSIGN_OR_RETURN(v, EvalFilter(*s.expr, &v));
      }
      return Assign(s, std::move(v));
    }
    case Stmt::Kind::kFilterBlock: {
      std::string captured;
      GQA_RETURN_IF_ERROR(Exec(s.body, captured));
      Value input = Value::String(std::move(captured));
      GQA_ASSIGN_OR_RETURN(Value v, EvalFilter(*s.expr, &input));
      return Append(out, ToPyStr(v));
    }
    case Stmt::Kind::kMacro: {
      std::vector<std::weak_ptr<Frame>> closure(frames_.begin(), frames_.end());
      const Stmt* macro = &s;
      (*frames_.back())[s.name] = Value::MakeFunction(
          s.name,
          [this, macro, closure](CallArgs& args) { return CallMacro(*macro, closure, args); });
      return absl::OkStatus();
    }
    case Stmt::Kind::kCallBlock: {
      const Expr& call = *s.expr;
      GQA_ASSIGN_OR_RETURN(Value callee, Eval(*call.children[0]));
      if (!callee.IsFunction())
        return absl::InvalidArgumentError("call block target is not callable");
      GQA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call, 1));
      std::vector<std::weak_ptr<Frame>> closure(frames_.begin(), frames_.end());
      const Stmt* block = &s;
      args.kwargs.emplace_back("caller",
                               Value::MakeFunction("caller", [this, block, closure](CallArgs& a) {
                                 return CallMacro(*block, closure, a);
                               }));
      GQA_ASSIGN_OR_RETURN(Value v, callee.function()(args));
      return Append(out, ToPyStr(v));
    }
    case Stmt::Kind::kBreak:
      flow_ = Flow::kBreak;
      return absl::OkStatus();
    case Stmt::Kind::kContinue:
      flow_ = Flow::kContinue;
      return absl::OkStatus();
    case Stmt::Kind::kScope:
      return Exec(s.body, out);
  }
  return absl::OkStatus();
}

absl::Status Renderer::Assign(const Stmt& s, Value value) {
  Frame& frame = *frames_.back();
  if (!s.attr.empty()) {
    Value ns = Lookup(s.targets[0]);
    if (!ns.IsNamespace()) {
      return absl::InvalidArgumentError("cannot assign attribute on non-namespace object");
    }
    ns.namespace_attrs().Set(s.attr, std::move(value));
    return absl::OkStatus();
  }
  if (s.targets.size() == 1) {
    frame[s.targets[0]] = std::move(value);
    return absl::OkStatus();
  }
  GQA_ASSIGN_OR_RETURN(List items, IterateValue(value));
  if (items.size() != s.targets.size()) {
    return absl::InvalidArgumentError(absl::StrCat(items.size() < s.targets.size()
                                                       ? "not enough values to unpack (expected "
                                                       : "too many values to unpack (expected ",
                                                   s.targets.size(), ", got ", items.size(), ")"));
  }
  for (size_t i = 0; i < items.size(); ++i) frame[s.targets[i]] = std::move(items[i]);
  return absl::OkStatus();
}

absl::Status Renderer::ExecFor(const Stmt& s, std::string& out) {
  GQA_ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr));
  GQA_ASSIGN_OR_RETURN(List items, IterateValue(iterable));
  frames_.push_back(std::make_shared<Frame>());
  Frame& frame = *frames_.back();
  auto bind = [&](const Value& item) -> absl::Status {
    if (s.targets.size() == 1) {
      frame[s.targets[0]] = item;
      return absl::OkStatus();
    }
    GQA_ASSIGN_OR_RETURN(List parts, IterateValue(item));
    if (parts.size() != s.targets.size()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot unpack ", parts.size(),
                                                     " values into ", s.targets.size(), " names"));
    }
    for (size_t i = 0; i < parts.size(); ++i) frame[s.targets[i]] = parts[i];
    return absl::OkStatus();
  };
  absl::Status status;
  if (s.condition) {  // `for x in xs if cond`: loop.* counts only the kept items
    List kept;
    for (const Value& item : items) {
      status = bind(item);
      if (!status.ok()) break;
      absl::StatusOr<Value> keep = Eval(*s.condition);
      if (!keep.ok()) {
        status = keep.status();
        break;
      }
      if (keep->Truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  auto cycle_of = [](int64_t i) {
    return Value::MakeFunction("cycle", [i](CallArgs& a) -> absl::StatusOr<Value> {
      if (a.args.empty()) return absl::InvalidArgumentError("no items for cycling given");
      return a.args[i % a.args.size()];
    });
  };
  for (int64_t i = 0; status.ok() && i < n; ++i) {
    status = Step(s.line);  // an empty body still costs a step per iteration
    if (status.ok()) status = bind(items[i]);
    if (!status.ok()) break;
    Dict loop;  // fresh keys: append without Set's lookups
    auto& e = loop.entries;
    e.reserve(12);
    e.emplace_back("index", Value::Int(i + 1));
    e.emplace_back("index0", Value::Int(i));
    e.emplace_back("revindex", Value::Int(n - i));
    e.emplace_back("revindex0", Value::Int(n - i - 1));
    e.emplace_back("first", Value::Bool(i == 0));
    e.emplace_back("last", Value::Bool(i == n - 1));
    e.emplace_back("length", Value::Int(n));
    e.emplace_back("depth", Value::Int(1));
    e.emplace_back("depth0", Value::Int(0));
    e.emplace_back("previtem", i > 0 ? items[i - 1] : Value::Undefined("previtem"));
    e.emplace_back("nextitem", i + 1 < n ? items[i + 1] : Value::Undefined("nextitem"));
    e.emplace_back("cycle", cycle_of(i));
    frame["loop"] = Value::MakeDict(std::move(loop));
    status = Exec(s.body, out);
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    flow_ = Flow::kNormal;
  }
  if (status.ok() && n == 0) {
    frame.erase("loop");
    status = Exec(s.else_body, out);
  }
  frames_.pop_back();
  return status;
}

absl::StatusOr<Value> Renderer::CallMacro(const Stmt& macro,
                                          const std::vector<std::weak_ptr<Frame>>& closure,
                                          CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "line ", macro.line, ": macro calls nested deeper than ", limits_.max_call_depth));
  }
  // The macro sees the frames where it was defined, then its arguments.
  // Weak references: a macro stored in a frame must not keep that frame alive
  // (a cycle); a frame gone by the call (a loop that ended) is simply absent.
  std::vector<std::shared_ptr<Frame>> saved = std::move(frames_);
  frames_.clear();
  for (const std::weak_ptr<Frame>& f : closure) {
    if (std::shared_ptr<Frame> locked = f.lock()) frames_.push_back(std::move(locked));
  }
  frames_.push_back(std::make_shared<Frame>());
  Frame& frame = *frames_.back();
  List varargs;
  for (size_t i = 0; i < args.args.size(); ++i) {
    if (i < macro.params.size()) {
      frame[macro.params[i]] = args.args[i];
    } else {
      varargs.push_back(args.args[i]);
    }
  }
  Dict kwargs;
  absl::Status status;
  for (auto& [k, v] : args.kwargs) {
    bool is_param = false;
    for (const std::string& p : macro.params) is_param = is_param || p == k;
    if (is_param || k == "caller") {
      frame[k] = v;
    } else {
      kwargs.Set(k, v);
    }
  }
  for (size_t i = 0; status.ok() && i < macro.params.size(); ++i) {
    if (frame.contains(macro.params[i])) continue;
    if (macro.defaults[i]) {
      absl::StatusOr<Value> d = Eval(*macro.defaults[i]);
      if (!d.ok()) {
        status = d.status();
        break;
      }
      frame[macro.params[i]] = *std::move(d);
    } else {
      frame[macro.params[i]] = Value::Undefined(macro.params[i]);
    }
  }
  frame["varargs"] = Value::MakeList(std::move(varargs), true);
  frame["kwargs"] = Value::MakeDict(std::move(kwargs));
  std::string out;
  ++call_depth_;
  Flow saved_flow = flow_;
  if (status.ok()) status = Exec(macro.body, out);
  flow_ = saved_flow;
  --call_depth_;
  frames_ = std::move(saved);
  if (!status.ok()) return status;
  return Value::String(std::move(out));
}

}  // namespace gqa::chat
