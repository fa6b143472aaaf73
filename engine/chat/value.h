// Value: a Python object as a Jinja2 chat template sees it. Kinds follow
// Python's: None, bool, int, float, str, list/tuple, dict, plus jinja2's
// Undefined, a namespace() object and callables (macros, globals, bound
// methods). Lists and dicts are shared, never mutated after creation (the
// ImmutableSandboxedEnvironment forbids it); a namespace is the one mutable
// object (`{% set ns.x = ... %}`).
//
// Strings are UTF-8; Python counts code points, so length, indexing and
// slicing go through Utf8CodePoints. Dict keys are strings (what chat
// templates and JSON inputs use), kept in insertion order as Python's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gqa::chat {

class Value;
using List = std::vector<Value>;

struct Dict {
  std::vector<std::pair<std::string, Value>> entries;  // insertion order

  const Value* Find(std::string_view key) const;
  void Set(std::string key, Value value);  // replaces in place or appends
};

// Arguments of a call: positional, then keyword in source order.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};
using Function = std::function<absl::StatusOr<Value>(CallArgs&)>;

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kNamespace,
    kFunction
  };

  Value() = default;  // Undefined
  static Value Undefined(std::string name = "");
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value String(std::string s);
  static Value MakeList(List items, bool is_tuple = false);
  static Value MakeDict(Dict dict);
  static Value Namespace(Dict attrs);
  static Value MakeFunction(std::string name, Function fn);

  Kind kind() const { return kind_; }
  bool IsUndefined() const { return kind_ == Kind::kUndefined; }
  bool IsNone() const { return kind_ == Kind::kNone; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsInt() const { return kind_ == Kind::kInt; }
  bool IsFloat() const { return kind_ == Kind::kFloat; }
  bool IsNumber() const {
    return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool;
  }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsList() const { return kind_ == Kind::kList; }
  bool IsTuple() const { return kind_ == Kind::kList && is_tuple_; }
  bool IsDict() const { return kind_ == Kind::kDict; }
  bool IsNamespace() const { return kind_ == Kind::kNamespace; }
  bool IsFunction() const { return kind_ == Kind::kFunction; }

  bool bool_value() const { return b_; }
  int64_t int_value() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double AsDouble() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(int_value()); }
  const std::string& str() const { return str_; }  // string value; Undefined: its name
  const List& list() const { return *list_; }
  const Dict& dict() const { return *dict_; }  // dict or namespace attributes
  Dict& namespace_attrs() const { return *dict_; }
  const Function& function() const { return *fn_; }
  const std::string& function_name() const { return str_; }

  // Python's bool(x); Undefined is false.
  bool Truthy() const;
  // Python's type name, for error messages.
  std::string TypeName() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool is_tuple_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string str_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Python's str(x) (what `{{ x }}` prints; Undefined prints as "").
std::string ToPyStr(const Value& v);
// Python's repr(x) (how list and dict items print).
std::string ToPyRepr(const Value& v);
// Python's repr of a float: shortest round-trip digits, "1.0", "1e+16", "nan", "inf".
std::string FloatRepr(double f);

// Python's ==. Undefined equals only Undefined.
bool PyEquals(const Value& a, const Value& b);
// Python's <, or an error for unorderable types ("'<' not supported ...").
absl::StatusOr<bool> PyLess(const Value& a, const Value& b);

// UTF-8 <-> code points; invalid bytes decode as U+FFFD.
std::vector<char32_t> Utf8CodePoints(std::string_view s);
std::string Utf8Encode(const std::vector<char32_t>& cps);
void AppendUtf8(char32_t cp, std::string& out);

// Python's str.isspace for one code point.
bool IsPyWhitespace(char32_t cp);

}  // namespace gqa::chat
