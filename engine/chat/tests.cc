// jinja2's built-in tests (tests.py) and the globals of a chat template
// render (jinja2's range/dict/namespace, transformers' raise_exception and
// strftime_now).
#include <ctime>

#include "absl/strings/str_cat.h"
#include "engine/chat/builtins.h"
#include "engine/common/status_macros.h"

namespace gqa::chat {
namespace {

constexpr const char* kTests[] = {
    "boolean", "callable", "defined",  "divisibleby", "eq",       "equalto", "escaped",
    "even",    "false",    "filter",   "float",       "ge",       "gt",      "greaterthan",
    "in",      "integer",  "iterable", "le",          "lessthan", "lower",   "lt",
    "mapping", "ne",       "none",     "number",      "odd",      "sameas",  "sequence",
    "string",  "test",     "true",     "undefined",   "upper",    "==",      "!=",
    "<",       "<=",       ">",        ">="};

// Python's `a is b` for the values a template can make: singletons by value,
// containers by identity.
bool SameAs(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kUndefined:
      return true;
    case Value::Kind::kBool:
      return a.bool_value() == b.bool_value();
    case Value::Kind::kInt:
      return a.int_value() == b.int_value() && a.int_value() >= -5 && a.int_value() <= 256;
    case Value::Kind::kList:
      return &a.list() == &b.list();
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return &a.dict() == &b.dict();
    default:
      return false;
  }
}

absl::StatusOr<Value> Range(CallArgs& a) {
  int64_t p[3] = {0, 0, 1};
  if (a.args.empty() || a.args.size() > 3) {
    return absl::InvalidArgumentError("range expected 1 to 3 integer arguments");
  }
  for (const Value& v : a.args) {
    if (!v.IsInt() && !v.IsBool()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", v.TypeName(), "' object cannot be interpreted as an integer"));
    }
  }
  if (a.args.size() == 1) {
    p[1] = a.args[0].int_value();
  } else {
    p[0] = a.args[0].int_value();
    p[1] = a.args[1].int_value();
    if (a.args.size() == 3) p[2] = a.args[2].int_value();
  }
  if (p[2] == 0) return absl::InvalidArgumentError("range() arg 3 must not be zero");
  List out;
  for (int64_t i = p[0]; p[2] > 0 ? i < p[1] : i > p[1]; i += p[2]) {
    // The sandbox's MAX_RANGE.
    if (out.size() >= 100000) {
      return absl::InvalidArgumentError(
          "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    }
    out.push_back(Value::Int(i));
  }
  return Value::MakeList(std::move(out));
}

}  // namespace

bool IsKnownTest(std::string_view name) {
  for (const char* t : kTests) {
    if (name == t) return true;
  }
  return false;
}

absl::StatusOr<bool> ApplyTest(std::string_view name, const Value& v, CallArgs& a) {
  const Value* arg = GetArg(a, 0, "");
  auto need_arg = [&]() -> absl::Status {
    if (!arg)
      return absl::InvalidArgumentError(
          absl::StrCat("test '", std::string(name), "' needs an argument"));
    return absl::OkStatus();
  };
  if (name == "defined") return !v.IsUndefined();
  if (name == "undefined") return v.IsUndefined();
  if (name == "none") return v.IsNone();
  if (name == "boolean") return v.IsBool();
  if (name == "true") return v.IsBool() && v.bool_value();
  if (name == "false") return v.IsBool() && !v.bool_value();
  if (name == "integer") return v.IsInt();
  if (name == "float") return v.IsFloat();
  if (name == "number") return v.IsNumber();
  if (name == "string") return v.IsString();
  if (name == "mapping") return v.IsDict();
  if (name == "iterable") return v.IsList() || v.IsDict() || v.IsString() || v.IsUndefined();
  if (name == "sequence") return v.IsList() || v.IsDict() || v.IsString() || v.IsUndefined();
  if (name == "callable") return v.IsFunction();
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    if (!v.IsString()) return false;
    std::string s = v.str();
    // Python's islower/isupper: no cased character of the other case, at least one cased.
    std::string other = name == "lower" ? PyLower(s) : PyUpper(s);
    return other == s && (name == "lower" ? PyUpper(s) : PyLower(s)) != s;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.IsInt() && !v.IsBool()) {
      if (v.IsFloat() && name != "divisibleby") {
        double r = std::fmod(v.AsDouble(), 2.0);
        return name == "odd" ? (r == 1 || r == -1) : r == 0;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("test '", std::string(name), "' needs a number"));
    }
    int64_t x = v.int_value();
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    GQA_RETURN_IF_ERROR(need_arg());
    if (!arg->IsInt() || arg->int_value() == 0) {
      return absl::InvalidArgumentError("divisibleby needs a non-zero integer");
    }
    return x % arg->int_value() == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") {
    GQA_RETURN_IF_ERROR(need_arg());
    return PyEquals(v, *arg);
  }
  if (name == "ne" || name == "!=") {
    GQA_RETURN_IF_ERROR(need_arg());
    return !PyEquals(v, *arg);
  }
  if (name == "lt" || name == "lessthan" || name == "<") {
    GQA_RETURN_IF_ERROR(need_arg());
    return PyLess(v, *arg);
  }
  if (name == "gt" || name == "greaterthan" || name == ">") {
    GQA_RETURN_IF_ERROR(need_arg());
    return PyLess(*arg, v);
  }
  if (name == "le" || name == "<=") {
    GQA_RETURN_IF_ERROR(need_arg());
    GQA_ASSIGN_OR_RETURN(bool gt, PyLess(*arg, v));
    return !gt;
  }
  if (name == "ge" || name == ">=") {
    GQA_RETURN_IF_ERROR(need_arg());
    GQA_ASSIGN_OR_RETURN(bool lt, PyLess(v, *arg));
    return !lt;
  }
  if (name == "in") {
    GQA_RETURN_IF_ERROR(need_arg());
    return PyContains(*arg, v);
  }
  if (name == "sameas") {
    GQA_RETURN_IF_ERROR(need_arg());
    return SameAs(v, *arg);
  }
  if (name == "filter" || name == "test") {
    return v.IsString() && (name == "filter" ? IsKnownFilter(v.str()) : IsKnownTest(v.str()));
  }
  return absl::InvalidArgumentError(absl::StrCat("No test named '", std::string(name), "'."));
}

Dict MakeGlobals() {
  Dict g;
  g.Set("range", Value::MakeFunction("range", Range));
  g.Set("dict", Value::MakeFunction("dict", [](CallArgs& a) -> absl::StatusOr<Value> {
          Dict d;
          if (!a.args.empty()) {
            if (a.args.size() > 1 || !a.args[0].IsDict()) {
              return absl::InvalidArgumentError("dict() takes a mapping and keyword arguments");
            }
            d = a.args[0].dict();
          }
          for (auto& [k, v] : a.kwargs) d.Set(k, v);
          return Value::MakeDict(std::move(d));
        }));
  g.Set("namespace", Value::MakeFunction("namespace", [](CallArgs& a) -> absl::StatusOr<Value> {
          Dict d;
          for (const Value& m : a.args) {
            if (!m.IsDict()) return absl::InvalidArgumentError("namespace() takes mappings");
            for (const auto& [k, v] : m.dict().entries) d.Set(k, v);
          }
          for (auto& [k, v] : a.kwargs) d.Set(k, v);
          return Value::Namespace(std::move(d));
        }));
  // transformers' raise_exception: a TemplateError with the message. Aborted
  // marks it so ChatTemplate::Render reports the message unchanged.
  g.Set("raise_exception",
        Value::MakeFunction("raise_exception", [](CallArgs& a) -> absl::StatusOr<Value> {
          const Value* m = GetArg(a, 0, "message");
          return absl::AbortedError(m ? ToPyStr(*m) : "");
        }));
  g.Set(
      "strftime_now", Value::MakeFunction("strftime_now", [](CallArgs& a) -> absl::StatusOr<Value> {
        const Value* f = GetArg(a, 0, "format");
        if (!f || !f->IsString())
          return absl::InvalidArgumentError("strftime_now needs a format string");
        std::time_t now = std::time(nullptr);
        std::tm tm_now;
        localtime_r(&now, &tm_now);
        char buf[512];
        size_t n =
            f->str().size() < 200 ? std::strftime(buf, sizeof(buf), f->str().c_str(), &tm_now) : 0;
        return Value::String(std::string(buf, n));
      }));
  return g;
}

}  // namespace gqa::chat
