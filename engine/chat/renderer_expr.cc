// Expression evaluation: Python semantics for operators, jinja2's for
// attribute and item lookup (sandboxed: only safe, non-mutating methods).
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/chat/builtins.h"
#include "engine/chat/renderer.h"
#include "engine/common/status_macros.h"

namespace gqa::chat {
namespace {

absl::Status UndefinedError(const Value& v) {
  return absl::InvalidArgumentError(absl::StrCat("'", v.str(), "' is undefined"));
}

absl::Status Unsupported(const std::string& op, const Value& a, const Value& b) {
  return absl::InvalidArgumentError(absl::StrCat("unsupported operand type(s) for ", op, ": '",
                                                 a.TypeName(), "' and '", b.TypeName(), "'"));
}

// Python's floor division and modulo for ints (round toward -inf).
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

absl::StatusOr<Value> Repeat(const Value& seq, int64_t n, size_t max_bytes) {
  if (n < 0) n = 0;
  if (seq.IsString()) {
    if (!seq.str().empty() && static_cast<uint64_t>(n) > max_bytes / seq.str().size()) {
      return absl::ResourceExhaustedError("string repetition exceeds the output limit");
    }
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::String(std::move(out));
  }
  if (!seq.list().empty() && static_cast<uint64_t>(n) > (max_bytes / 16) / seq.list().size()) {
    return absl::ResourceExhaustedError("list repetition exceeds the output limit");
  }
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
  return Value::MakeList(std::move(out), seq.IsTuple());
}

}  // namespace

// jinja2's environment.getitem: obj[key], then getattr(obj, key) for a string key.
Value JinjaGetItem(const Value& obj, const Value& key) {
  if (obj.IsDict() && key.IsString()) {
    if (const Value* v = obj.dict().Find(key.str())) return *v;
    return GetMethod(obj, key.str());
  }
  if ((obj.IsList() || obj.IsString()) && (key.IsInt() || key.IsBool())) {
    int64_t i = key.int_value();
    if (obj.IsList()) {
      int64_t n = static_cast<int64_t>(obj.list().size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::Undefined();
      return obj.list()[i];
    }
    std::vector<char32_t> cps = Utf8CodePoints(obj.str());
    int64_t n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::Undefined();
    std::string s;
    AppendUtf8(cps[i], s);
    return Value::String(std::move(s));
  }
  if (obj.IsNamespace() && key.IsString()) {
    if (const Value* v = obj.dict().Find(key.str())) return *v;
  }
  if (key.IsString()) return GetMethod(obj, key.str());
  return Value::Undefined();
}

// jinja2's environment.getattr: getattr(obj, name), then obj[name].
Value JinjaGetAttr(const Value& obj, const std::string& name) {
  Value method = GetMethod(obj, name);
  if (!method.IsUndefined()) return method;
  if (obj.IsDict() || obj.IsNamespace()) {
    if (const Value* v = obj.dict().Find(name)) return *v;
  }
  return Value::Undefined(name);
}

absl::StatusOr<bool> PyContains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.IsString()) {
        return absl::InvalidArgumentError(
            absl::StrCat("'in <string>' requires string as left operand, not ", item.TypeName()));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.list()) {
        if (PyEquals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      return item.IsString() && container.dict().Find(item.str()) != nullptr;
    case Value::Kind::kUndefined:
      return false;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("argument of type '", container.TypeName(), "' is not iterable"));
  }
}

absl::StatusOr<Value> BinaryOp(std::string_view op, const Value& a, const Value& b,
                               size_t max_string_bytes) {
  if (a.IsUndefined()) return UndefinedError(a);
  if (b.IsUndefined()) return UndefinedError(b);
  const bool nums = a.IsNumber() && b.IsNumber();
  const bool ints = nums && !a.IsFloat() && !b.IsFloat();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.int_value(), b.int_value(), &r)) {
        return absl::InvalidArgumentError("integer overflow");
      }
      return Value::Int(r);
    }
    if (nums) return Value::Float(a.AsDouble() + b.AsDouble());
    if (a.IsString() && b.IsString()) {
      if (a.str().size() + b.str().size() > max_string_bytes) {
        return absl::ResourceExhaustedError("string exceeds the output limit");
      }
      return Value::String(a.str() + b.str());
    }
    if (a.IsList() && b.IsList() && a.IsTuple() == b.IsTuple()) {
      List out = a.list();
      out.insert(out.end(), b.list().begin(), b.list().end());
      return Value::MakeList(std::move(out), a.IsTuple());
    }
    if (a.IsString() || b.IsString()) {
      return absl::InvalidArgumentError(
          a.IsString()
              ? absl::StrCat("can only concatenate str (not \"", b.TypeName(), "\") to str")
              : absl::StrCat("unsupported operand type(s) for +: '", a.TypeName(), "' and 'str'"));
    }
    return Unsupported("+", a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.int_value(), b.int_value(), &r)) {
        return absl::InvalidArgumentError("integer overflow");
      }
      return Value::Int(r);
    }
    if (nums) return Value::Float(a.AsDouble() - b.AsDouble());
    return Unsupported("-", a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.int_value(), b.int_value(), &r)) {
        return absl::InvalidArgumentError("integer overflow");
      }
      return Value::Int(r);
    }
    if (nums) return Value::Float(a.AsDouble() * b.AsDouble());
    if ((a.IsString() || a.IsList()) && (b.IsInt() || b.IsBool())) {
      return Repeat(a, b.int_value(), max_string_bytes);
    }
    if ((b.IsString() || b.IsList()) && (a.IsInt() || a.IsBool())) {
      return Repeat(b, a.int_value(), max_string_bytes);
    }
    return Unsupported("*", a, b);
  }
  if (!nums) {
    if (op == "%" && a.IsString()) {
      return absl::InvalidArgumentError("printf-style string formatting is not supported");
    }
    return Unsupported(op == "**" ? "** or pow()" : std::string(op), a, b);
  }
  if (op == "/") {
    if (b.AsDouble() == 0) return absl::InvalidArgumentError("division by zero");
    return Value::Float(a.AsDouble() / b.AsDouble());
  }
  if (op == "//" || op == "%") {
    if (b.AsDouble() == 0) {
      return absl::InvalidArgumentError(op == "%" ? "integer modulo by zero"
                                                  : "integer division or modulo by zero");
    }
    if (ints) {
      if (a.int_value() == std::numeric_limits<int64_t>::min() && b.int_value() == -1) {
        return absl::InvalidArgumentError("integer overflow");
      }
      int64_t q = FloorDiv(a.int_value(), b.int_value());
      return op == "//" ? Value::Int(q) : Value::Int(a.int_value() - q * b.int_value());
    }
    double x = a.AsDouble(), y = b.AsDouble();
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    if (op == "%") return Value::Float(m == 0 ? std::copysign(0.0, y) : m);
    double div = (x - std::fmod(x, y)) / y;  // CPython's float_floor_div
    if (std::fmod(x, y) != 0 && ((y < 0) != (std::fmod(x, y) < 0))) div -= 1.0;
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return Value::Float(div == 0 ? std::copysign(0.0, x / y) : floordiv);
  }
  if (op == "**") {
    if (ints && b.int_value() >= 0) {
      int64_t r = 1, base = a.int_value();
      for (int64_t e = b.int_value(); e > 0; --e) {
        if (__builtin_mul_overflow(r, base, &r))
          return absl::InvalidArgumentError("integer overflow");
        if (r == 0 || r == 1) break;
      }
      return Value::Int(r);
    }
    if (a.AsDouble() == 0 && b.AsDouble() < 0) {
      return absl::InvalidArgumentError("0.0 cannot be raised to a negative power");
    }
    return Value::Float(std::pow(a.AsDouble(), b.AsDouble()));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown operator ", std::string(op)));
}

absl::StatusOr<Value> Renderer::Eval(const Expr& e) {
  GQA_RETURN_IF_ERROR(Step(e.line));
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return e.literal;
    case Expr::Kind::kName:
      return Lookup(e.name);
    case Expr::Kind::kList:
    case Expr::Kind::kTuple: {
      List items;
      for (const ExprPtr& c : e.children) {
        GQA_ASSIGN_OR_RETURN(Value v, Eval(*c));
        items.push_back(std::move(v));
      }
      return Value::MakeList(std::move(items), e.kind == Expr::Kind::kTuple);
    }
    case Expr::Kind::kDict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        GQA_ASSIGN_OR_RETURN(Value k, Eval(*e.children[i]));
        GQA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[i + 1]));
        if (!k.IsString()) return absl::InvalidArgumentError("dict keys must be strings");
        d.Set(k.str(), std::move(v));
      }
      return Value::MakeDict(std::move(d));
    }
    case Expr::Kind::kNot: {
      GQA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[0]));
      return Value::Bool(!v.Truthy());
    }
    case Expr::Kind::kNeg:
    case Expr::Kind::kPos: {
      GQA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[0]));
      if (v.IsUndefined()) return UndefinedError(v);
      if (!v.IsNumber()) {
        return absl::InvalidArgumentError(absl::StrCat("bad operand type for unary ",
                                                       e.kind == Expr::Kind::kNeg ? "-" : "+",
                                                       ": '", v.TypeName(), "'"));
      }
      if (e.kind == Expr::Kind::kPos) return v.IsBool() ? Value::Int(v.int_value()) : v;
      if (v.IsFloat()) return Value::Float(-v.AsDouble());
      if (v.int_value() == std::numeric_limits<int64_t>::min()) {
        return absl::InvalidArgumentError("integer overflow");
      }
      return Value::Int(-v.int_value());
    }
    case Expr::Kind::kBinary: {
      GQA_ASSIGN_OR_RETURN(Value a, Eval(*e.children[0]));
      GQA_ASSIGN_OR_RETURN(Value b, Eval(*e.children[1]));
      if (e.name == "~") {  // str() of each side; Undefined is ""
        std::string s = ToPyStr(a) + ToPyStr(b);
        if (s.size() > limits_.max_output_bytes) {
          return absl::ResourceExhaustedError("string exceeds the output limit");
        }
        return Value::String(std::move(s));
      }
      return BinaryOp(e.name, a, b, limits_.max_output_bytes);
    }
    case Expr::Kind::kCompare:
      return EvalCompare(e);
    case Expr::Kind::kAnd: {  // Python returns the deciding operand
      GQA_ASSIGN_OR_RETURN(Value a, Eval(*e.children[0]));
      if (!a.Truthy()) return a;
      return Eval(*e.children[1]);
    }
    case Expr::Kind::kOr: {
      GQA_ASSIGN_OR_RETURN(Value a, Eval(*e.children[0]));
      if (a.Truthy()) return a;
      return Eval(*e.children[1]);
    }
    case Expr::Kind::kCond: {
      GQA_ASSIGN_OR_RETURN(Value c, Eval(*e.children[1]));
      if (c.Truthy()) return Eval(*e.children[0]);
      if (!e.children[2]) return Value::Undefined();
      return Eval(*e.children[2]);
    }
    case Expr::Kind::kGetAttr: {
      GQA_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
      if (obj.IsUndefined()) return UndefinedError(obj);
      return JinjaGetAttr(obj, e.name);
    }
    case Expr::Kind::kGetItem: {
      GQA_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
      GQA_ASSIGN_OR_RETURN(Value key, Eval(*e.children[1]));
      if (obj.IsUndefined()) return UndefinedError(obj);
      return JinjaGetItem(obj, key);
    }
    case Expr::Kind::kSlice:
      return EvalSlice(e);
    case Expr::Kind::kCall: {
      GQA_ASSIGN_OR_RETURN(Value callee, Eval(*e.children[0]));
      if (callee.IsUndefined()) return UndefinedError(callee);
      if (!callee.IsFunction()) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", callee.TypeName(), "' object is not callable"));
      }
      GQA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
      return callee.function()(args);
    }
    case Expr::Kind::kFilter:
      return EvalFilter(e, nullptr);
    case Expr::Kind::kTest: {
      if (!e.known)
        return absl::InvalidArgumentError(absl::StrCat("No test named '", e.name, "'."));
      GQA_ASSIGN_OR_RETURN(Value input, Eval(*e.children[0]));
      GQA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
      GQA_ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, input, args));
      return Value::Bool(r);
    }
  }
  return absl::InternalError("unknown expression");
}

absl::StatusOr<CallArgs> Renderer::EvalArgs(const Expr& e, size_t first_arg) {
  CallArgs args;
  for (size_t i = first_arg; i < e.children.size(); ++i) {
    GQA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[i]));
    args.args.push_back(std::move(v));
  }
  for (const auto& [k, expr] : e.kwargs) {
    GQA_ASSIGN_OR_RETURN(Value v, Eval(*expr));
    args.kwargs.emplace_back(k, std::move(v));
  }
  return args;
}

absl::StatusOr<Value> Renderer::EvalFilter(const Expr& e, const Value* block_input) {
  // A filter chain's innermost node has a null input in a filter block or
  // `{% set x | f %}`: that one gets block_input.
  Value input;
  if (e.children[0]) {
    GQA_ASSIGN_OR_RETURN(input, e.children[0]->kind == Expr::Kind::kFilter
                                    ? EvalFilter(*e.children[0], block_input)
                                    : Eval(*e.children[0]));
  } else if (block_input) {
    input = *block_input;
  }
  if (!e.known) return absl::InvalidArgumentError(absl::StrCat("No filter named '", e.name, "'."));
  GQA_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
  return ApplyFilter(e.name, input, args);
}

absl::StatusOr<Value> Renderer::EvalCompare(const Expr& e) {
  GQA_ASSIGN_OR_RETURN(Value left, Eval(*e.children[0]));
  for (size_t i = 0; i < e.ops.size(); ++i) {
    GQA_ASSIGN_OR_RETURN(Value right, Eval(*e.children[i + 1]));
    const std::string& op = e.ops[i];
    bool r = false;
    if (op == "==") {
      r = PyEquals(left, right);
    } else if (op == "!=") {
      r = !PyEquals(left, right);
    } else if (op == "in" || op == "notin") {
      absl::StatusOr<bool> in = PyContains(right, left);
      if (!in.ok()) return in.status();
      r = op == "notin" ? !*in : *in;
    } else {
      if (left.IsUndefined()) return UndefinedError(left);
      if (right.IsUndefined()) return UndefinedError(right);
      // a > b is b < a; a <= b is not b < a; a >= b is not a < b.
      const bool swap = op == ">" || op == "<=";
      absl::StatusOr<bool> lt = swap ? PyLess(right, left) : PyLess(left, right);
      if (!lt.ok()) return lt.status();
      r = (op == "<" || op == ">") ? *lt : !*lt;
    }
    if (!r) return Value::Bool(false);
    left = std::move(right);
  }
  return Value::Bool(true);
}

absl::StatusOr<Value> Renderer::EvalSlice(const Expr& e) {
  // A slice that is one part of a tuple subscript (`x[1:2, 0]`) has no object:
  // Jinja2 hands Python a (slice, ...) key that no list, string or dict takes.
  if (!e.children[0]) {
    return absl::InvalidArgumentError("a slice must be the whole subscript, as in x[1:2]");
  }
  GQA_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
  if (obj.IsUndefined()) return UndefinedError(obj);
  int64_t bounds[3] = {0, 0, 1};
  bool given[3] = {false, false, false};
  for (int k = 0; k < 3; ++k) {
    if (!e.children[k + 1]) continue;
    GQA_ASSIGN_OR_RETURN(Value v, Eval(*e.children[k + 1]));
    if (v.IsNone()) continue;
    if (!v.IsInt() && !v.IsBool()) {
      return absl::InvalidArgumentError(
          "slice indices must be integers or None or have an __index__ method");
    }
    bounds[k] = v.int_value();
    given[k] = true;
  }
  int64_t step = bounds[2];
  if (step == 0) return absl::InvalidArgumentError("slice step cannot be zero");
  if (!obj.IsList() && !obj.IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", obj.TypeName(), "' object is not subscriptable"));
  }
  std::vector<char32_t> cps;
  if (obj.IsString()) cps = Utf8CodePoints(obj.str());
  const int64_t n =
      obj.IsString() ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(obj.list().size());
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](int64_t v, bool is_given, int64_t dflt) {
    if (!is_given) return dflt;
    if (v < 0) {
      v += n;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= n) {
      v = step < 0 ? n - 1 : n;
    }
    return v;
  };
  int64_t start = adjust(bounds[0], given[0], step < 0 ? n - 1 : 0);
  int64_t stop = adjust(bounds[1], given[1], step < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) idx.push_back(i);
  if (obj.IsString()) {
    std::string s;
    for (int64_t i : idx) AppendUtf8(cps[i], s);
    return Value::String(std::move(s));
  }
  List out;
  for (int64_t i : idx) out.push_back(obj.list()[i]);
  return Value::MakeList(std::move(out), obj.IsTuple());
}

}  // namespace gqa::chat
