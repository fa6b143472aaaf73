// jinja2's built-in filters and tests, the string/dict/list methods templates
// call, and the global functions transformers adds, with Python's semantics.
// Each returns InvalidArgument with a jinja2-like message on misuse.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/chat/value.h"

namespace gqa::chat {

bool IsKnownFilter(std::string_view name);
bool IsKnownTest(std::string_view name);

// `input | name(args)`.
absl::StatusOr<Value> ApplyFilter(std::string_view name, const Value& input, CallArgs& args);
// `input is name(args)`.
absl::StatusOr<bool> ApplyTest(std::string_view name, const Value& input, CallArgs& args);

// `obj.name` for a method of a str, dict or list: a function bound to obj;
// Undefined when obj has no such (safe) method.
Value GetMethod(const Value& obj, std::string_view name);

// jinja2's environment.getitem (obj[key], then the attribute) and getattr
// (the attribute, i.e. a safe method, then obj[name]); Undefined when neither.
Value JinjaGetItem(const Value& obj, const Value& key);
Value JinjaGetAttr(const Value& obj, const std::string& name);

// Python's binary operators on Values ("+", "-", "*", "/", "//", "%", "**").
absl::StatusOr<Value> BinaryOp(std::string_view op, const Value& a, const Value& b,
                               size_t max_string_bytes);
// Python's `a in b`.
absl::StatusOr<bool> PyContains(const Value& container, const Value& item);

// The globals of a render: range, dict, namespace, raise_exception,
// strftime_now (local time, as transformers' datetime.now().strftime).
Dict MakeGlobals();

// Python's str.strip/lstrip/rstrip (chars: None strips whitespace).
std::string PyStrip(std::string_view s, const Value& chars, bool left, bool right);
// str.lower()/upper() with Unicode case mapping.
std::string PyLower(std::string_view s);
std::string PyUpper(std::string_view s);

// json.dumps(v, ensure_ascii, indent, separators, sort_keys) as transformers
// tojson filter calls it. Undefined, namespaces and functions are errors.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::string indent_str;  // one level of indentation (json.dumps: indent spaces or the str)
  bool indented = false;   // indent given: newlines and indent_str per level
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};
absl::StatusOr<std::string> JsonDump(const Value& v, const JsonDumpOptions& options);

// Helpers for argument handling: positional index or keyword name.
const Value* GetArg(const CallArgs& args, size_t index, std::string_view name);
// Iterates `v` as Python's iter(): list items, dict keys, string characters;
// Undefined is empty. Other kinds are an error ("'int' object is not iterable").
absl::StatusOr<List> IterateValue(const Value& v);
// Python's len(), for str (code points), list, dict; Undefined is 0.
absl::StatusOr<int64_t> PyLen(const Value& v);

}  // namespace gqa::chat
