// jinja2's built-in filters (filters.py), the subset chat templates use, with
// transformers' tojson (json.dumps, ensure_ascii=False) in place of jinja2's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/chat/builtins.h"
#include "engine/common/status_macros.h"

namespace gqa::chat {
namespace {

constexpr const char* kFilters[] = {
    "abs",     "attr",    "capitalize", "count",  "d",      "default",    "dictsort", "e",
    "escape",  "first",   "float",      "indent", "int",    "items",      "join",     "last",
    "length",  "list",    "lower",      "map",    "max",    "min",        "reject",   "rejectattr",
    "replace", "reverse", "round",      "safe",   "select", "selectattr", "sort",     "string",
    "sum",     "title",   "tojson",     "trim",   "unique", "upper",      "wordcount"};

bool IntLike(const Value* v) { return v && (v->IsInt() || v->IsBool()); }
bool Flag(const Value* v) { return v && v->Truthy(); }

// make_attrgetter: "a.b.0" looks up a, then b, then item 0.
Value GetPath(const Value& item, const Value& attribute) {
  if (IntLike(&attribute)) return JinjaGetItem(item, attribute);
  std::string path = ToPyStr(attribute);
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = digits && part.size() < 18 ? JinjaGetItem(cur, Value::Int(std::stoll(part)))
                                     : JinjaGetItem(cur, Value::String(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

// The sort/unique/min/max key: strings lowered unless case_sensitive.
Value SortKey(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.IsString()) return Value::String(PyLower(v.str()));
  return v;
}

absl::Status SortValues(List& items, bool case_sensitive, const Value* attribute, bool reverse) {
  absl::Status error;
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& v : items) {
    Value k = attribute && !attribute->IsNone() ? GetPath(v, *attribute) : v;
    keyed.emplace_back(SortKey(k, case_sensitive), std::move(v));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    absl::StatusOr<bool> lt = reverse ? PyLess(b.first, a.first) : PyLess(a.first, b.first);
    if (!lt.ok()) {
      if (error.ok()) error = lt.status();
      return false;
    }
    return *lt;
  });
  items.clear();
  for (auto& [k, v] : keyed) items.push_back(std::move(v));
  return error;
}

// Python's int(str, 10) and float(str): surrounding whitespace, one sign,
// single underscores between digits.
bool ParsePyInt(std::string_view s, int64_t& out) {
  std::string t(absl::StripAsciiWhitespace(std::string(s))), clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && isdigit(t[i - 1]) && isdigit(t[i + 1]))
      continue;
    clean += t[i];
  }
  if (clean.empty()) return false;
  size_t start = clean[0] == '+' || clean[0] == '-';
  if (start == clean.size() || !std::all_of(clean.begin() + start, clean.end(), ::isdigit))
    return false;
  errno = 0;
  out = std::strtoll(clean.c_str(), nullptr, 10);
  return errno == 0;
}

bool ParsePyFloat(std::string_view s, double& out) {
  std::string t(absl::StripAsciiWhitespace(std::string(s))), clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && isdigit(t[i - 1]) && isdigit(t[i + 1]))
      continue;
    clean += t[i];
  }
  if (clean.empty() || clean.find_first_of("xXpP") != std::string::npos) return false;
  char* end = nullptr;
  out = std::strtod(clean.c_str(), &end);
  return end == clean.c_str() + clean.size();
}

// Python's str.splitlines() boundaries.
std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  std::vector<char32_t> cps = Utf8CodePoints(s);
  std::vector<char32_t> cur;
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d ||
               c == 0x1e || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) {
      cur.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
    lines.push_back(Utf8Encode(cur));
    cur.clear();
  }
  if (!cur.empty()) lines.push_back(Utf8Encode(cur));
  return lines;
}

absl::StatusOr<Value> Select(const Value& input, CallArgs& a, bool by_attr, bool keep) {
  GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
  size_t next = 0;
  Value attr;
  if (by_attr) {
    if (a.args.empty()) return absl::InvalidArgumentError("Missing parameter for attribute name");
    attr = a.args[next++];
  }
  std::string test;
  if (next < a.args.size()) test = ToPyStr(a.args[next++]);
  CallArgs test_args;
  test_args.args.assign(a.args.begin() + next, a.args.end());
  test_args.kwargs = a.kwargs;
  List out;
  for (const Value& item : items) {
    Value v = by_attr ? GetPath(item, attr) : item;
    bool r;
    if (test.empty()) {
      r = v.Truthy();
    } else {
      if (!IsKnownTest(test))
        return absl::InvalidArgumentError(absl::StrCat("No test named '", test, "'."));
      CallArgs copy = test_args;
      GQA_ASSIGN_OR_RETURN(r, ApplyTest(test, v, copy));
    }
    if (r == keep) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

absl::StatusOr<Value> Map(const Value& input, CallArgs& a) {
  GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
  List out;
  const Value* attribute = GetArg(a, 1000, "attribute");
  if (attribute) {
    const Value* dflt = GetArg(a, 1000, "default");
    for (const Value& item : items) {
      Value v = GetPath(item, *attribute);
      out.push_back(v.IsUndefined() && dflt ? *dflt : v);
    }
    return Value::MakeList(std::move(out));
  }
  if (a.args.empty()) return Value::MakeList(std::move(items));
  std::string filter = ToPyStr(a.args[0]);
  if (!IsKnownFilter(filter))
    return absl::InvalidArgumentError(absl::StrCat("No filter named '", filter, "'."));
  CallArgs rest;
  rest.args.assign(a.args.begin() + 1, a.args.end());
  rest.kwargs = a.kwargs;
  for (const Value& item : items) {
    CallArgs copy = rest;
    GQA_ASSIGN_OR_RETURN(Value v, ApplyFilter(filter, item, copy));
    out.push_back(std::move(v));
  }
  return Value::MakeList(std::move(out));
}

absl::StatusOr<Value> Round(const Value& input, CallArgs& a) {
  const Value* prec_v = GetArg(a, 0, "precision");
  const Value* method_v = GetArg(a, 1, "method");
  int64_t precision = IntLike(prec_v) ? prec_v->int_value() : 0;
  std::string method = method_v ? ToPyStr(*method_v) : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    return absl::InvalidArgumentError("method must be common, ceil or floor");
  }
  if (!input.IsNumber())
    return absl::InvalidArgumentError(
        absl::StrCat("type ", input.TypeName(), " doesn't define __round__ method"));
  if (method == "common") {
    if (!input.IsFloat()) return Value::Int(input.int_value());  // round(int, n>=0) is the int
    double x = input.AsDouble();
    if (!std::isfinite(x)) return input;
    if (precision == 0) return Value::Float(std::nearbyint(x));  // half to even, as Python
    if (precision < 0 || precision > 300) return input;
    // printf rounds the exact binary value half-to-even, as Python's round(x, n).
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);
    return Value::Float(std::strtod(buf, nullptr));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = input.AsDouble() * scale;
  return Value::Float((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

absl::StatusOr<Value> Indent(const Value& input, CallArgs& a) {
  const Value* width_v = GetArg(a, 0, "width");
  std::string indention =
      width_v && width_v->IsString() ? width_v->str()
      : IntLike(width_v)
          ? std::string(std::max<int64_t>(0, std::min<int64_t>(width_v->int_value(), 1 << 20)), ' ')
          : "    ";
  bool first = Flag(GetArg(a, 1, "first"));
  bool blank = Flag(GetArg(a, 2, "blank"));
  std::vector<std::string> lines = SplitLines(ToPyStr(input) + "\n");
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (first) rv = indention + rv;
  return Value::String(std::move(rv));
}

absl::StatusOr<Value> Replace(const Value& input, CallArgs& a) {
  std::string s = ToPyStr(input);
  const Value* old_v = GetArg(a, 0, "old");
  const Value* new_v = GetArg(a, 1, "new");
  if (!old_v || !new_v) return absl::InvalidArgumentError("replace() needs old and new");
  std::string from = ToPyStr(*old_v), to = ToPyStr(*new_v);
  const Value* count_v = GetArg(a, 2, "count");
  int64_t count = IntLike(count_v) ? count_v->int_value() : -1;
  std::string out;
  if (from.empty()) {  // inserted before every character and at the end
    std::vector<char32_t> cps = Utf8CodePoints(s);
    int64_t done = 0;
    for (char32_t cp : cps) {
      if (count < 0 || done < count) out += to, ++done;
      AppendUtf8(cp, out);
    }
    if (count < 0 || done < count) out += to;
    return Value::String(std::move(out));
  }
  size_t prev = 0;
  int64_t done = 0;
  for (size_t p = s.find(from); p != std::string::npos && (count < 0 || done < count);
       p = s.find(from, prev), ++done) {
    out.append(s, prev, p - prev);
    out += to;
    prev = p + from.size();
  }
  out.append(s, prev, std::string::npos);
  return Value::String(std::move(out));
}

absl::StatusOr<Value> ToJson(const Value& input, CallArgs& a) {
  JsonDumpOptions o;
  o.ensure_ascii = Flag(GetArg(a, 0, "ensure_ascii"));
  const Value* indent = GetArg(a, 1, "indent");
  if (indent && !indent->IsNone()) {
    o.item_separator = ",";
    if (indent->IsString()) {
      o.indented = true;
      o.indent_str = indent->str();
    } else if (IntLike(indent)) {
      o.indented = true;
      o.indent_str = std::string(std::clamp<int64_t>(indent->int_value(), 0, 1 << 10), ' ');
    } else {
      return absl::InvalidArgumentError("tojson: indent must be an int or a str");
    }
  }
  const Value* seps = GetArg(a, 2, "separators");
  if (seps && seps->IsList() && seps->list().size() == 2) {
    o.item_separator = ToPyStr(seps->list()[0]);
    o.key_separator = ToPyStr(seps->list()[1]);
  }
  o.sort_keys = Flag(GetArg(a, 3, "sort_keys"));
  GQA_ASSIGN_OR_RETURN(std::string s, JsonDump(input, o));
  return Value::String(std::move(s));
}

}  // namespace

bool IsKnownFilter(std::string_view name) {
  for (const char* f : kFilters) {
    if (name == f) return true;
  }
  return false;
}

absl::StatusOr<Value> ApplyFilter(std::string_view name, const Value& input, CallArgs& a) {
  if (name == "trim") {
    const Value* chars = GetArg(a, 0, "chars");
    return Value::String(PyStrip(ToPyStr(input), chars ? *chars : Value::None(), true, true));
  }
  if (name == "upper") return Value::String(PyUpper(ToPyStr(input)));
  if (name == "lower") return Value::String(PyLower(ToPyStr(input)));
  if (name == "length" || name == "count") {
    GQA_ASSIGN_OR_RETURN(int64_t n, PyLen(input));
    return Value::Int(n);
  }
  if (name == "default" || name == "d") {
    const Value* dflt = GetArg(a, 0, "default_value");
    bool boolean = Flag(GetArg(a, 1, "boolean"));
    if (input.IsUndefined() || (boolean && !input.Truthy()))
      return dflt ? *dflt : Value::String("");
    return input;
  }
  if (name == "tojson") return ToJson(input, a);
  if (name == "string" || name == "safe") return Value::String(ToPyStr(input));
  if (name == "escape" || name == "e") {
    std::string out;
    for (char c : ToPyStr(input)) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&#34;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out += c;
      }
    }
    return Value::String(std::move(out));
  }
  if (name == "first" || name == "last") {
    GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
    if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
    return Value::MakeList(std::move(items));
  }
  if (name == "items") {
    if (input.IsUndefined()) return Value::MakeList({});
    if (!input.IsDict())
      return absl::InvalidArgumentError("Can only get item pairs from a mapping.");
    CallArgs none;
    return GetMethod(input, "items").function()(none);
  }
  if (name == "join") {
    GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
    const Value* sep = GetArg(a, 0, "d");
    const Value* attribute = GetArg(a, 1, "attribute");
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i && sep) out += ToPyStr(*sep);
      out += ToPyStr(attribute && !attribute->IsNone() ? GetPath(items[i], *attribute) : items[i]);
    }
    return Value::String(std::move(out));
  }
  if (name == "map") return Map(input, a);
  if (name == "select" || name == "reject") return Select(input, a, false, name == "select");
  if (name == "selectattr" || name == "rejectattr")
    return Select(input, a, true, name == "selectattr");
  if (name == "attr") {
    const Value* n = GetArg(a, 0, "name");
    if (!n) return absl::InvalidArgumentError("attr() needs a name");
    return JinjaGetAttr(input, ToPyStr(*n));
  }
  if (name == "capitalize") {
    CallArgs none;
    return GetMethod(Value::String(ToPyStr(input)), "capitalize").function()(none);
  }
  if (name == "title") {
    // jinja2's do_title: words start after runs of [-\s({[<].
    std::string out;
    bool at_start = true;
    for (char32_t cp : Utf8CodePoints(ToPyStr(input))) {
      bool sep =
          cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || IsPyWhitespace(cp);
      std::string one;
      AppendUtf8(cp, one);
      out += sep ? one : at_start ? PyUpper(one) : PyLower(one);
      at_start = sep;
    }
    return Value::String(std::move(out));
  }
  if (name == "replace") return Replace(input, a);
  if (name == "indent") return Indent(input, a);
  if (name == "round") return Round(input, a);
  if (name == "abs") {
    if (input.IsFloat()) return Value::Float(std::fabs(input.AsDouble()));
    if (input.IsNumber()) {
      if (input.int_value() == INT64_MIN) return absl::InvalidArgumentError("integer overflow");
      return Value::Int(std::llabs(input.int_value()));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("bad operand type for abs(): '", input.TypeName(), "'"));
  }
  if (name == "int") {
    const Value* dflt = GetArg(a, 0, "default");
    Value fallback = dflt ? *dflt : Value::Int(0);
    if (input.IsFloat()) {
      double x = input.AsDouble();
      if (!std::isfinite(x) || std::fabs(x) >= 9.2e18) return fallback;
      return Value::Int(static_cast<int64_t>(x));
    }
    if (input.IsNumber()) return Value::Int(input.int_value());
    if (!input.IsString()) return fallback;
    int64_t i;
    if (ParsePyInt(input.str(), i)) return Value::Int(i);
    double f;
    if (ParsePyFloat(input.str(), f) && std::isfinite(f) && std::fabs(f) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(f));
    }
    return fallback;
  }
  if (name == "float") {
    const Value* dflt = GetArg(a, 0, "default");
    Value fallback = dflt ? *dflt : Value::Float(0.0);
    if (input.IsNumber()) return Value::Float(input.AsDouble());
    double f;
    if (input.IsString() && ParsePyFloat(input.str(), f)) return Value::Float(f);
    return fallback;
  }
  if (name == "reverse") {
    if (input.IsString()) {
      std::vector<char32_t> cps = Utf8CodePoints(input.str());
      std::reverse(cps.begin(), cps.end());
      return Value::String(Utf8Encode(cps));
    }
    GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
    std::reverse(items.begin(), items.end());
    return Value::MakeList(std::move(items));
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max") {
    GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
    bool sort = name == "sort";
    bool case_sensitive = Flag(GetArg(a, sort ? 1 : name == "unique" ? 0 : 0, "case_sensitive"));
    const Value* attribute = GetArg(a, sort ? 2 : 1, "attribute");
    if (name == "unique") {
      List out, seen;
      for (const Value& v : items) {
        Value k =
            SortKey(attribute && !attribute->IsNone() ? GetPath(v, *attribute) : v, case_sensitive);
        bool dup = false;
        for (const Value& s : seen) dup = dup || PyEquals(s, k);
        if (dup) continue;
        seen.push_back(k);
        out.push_back(v);
      }
      return Value::MakeList(std::move(out));
    }
    bool reverse = sort && Flag(GetArg(a, 0, "reverse"));
    GQA_RETURN_IF_ERROR(SortValues(items, case_sensitive, attribute, reverse));
    if (sort) return Value::MakeList(std::move(items));
    if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
    // min: the first of the sorted; max: the first of the largest keys.
    if (name == "min") return items.front();
    GQA_RETURN_IF_ERROR(SortValues(items, case_sensitive, attribute, true));
    return items.front();
  }
  if (name == "dictsort") {
    if (!input.IsDict()) return absl::InvalidArgumentError("dictsort needs a mapping");
    bool case_sensitive = Flag(GetArg(a, 0, "case_sensitive"));
    const Value* by = GetArg(a, 1, "by");
    bool by_value = by && ToPyStr(*by) == "value";
    bool reverse = Flag(GetArg(a, 2, "reverse"));
    CallArgs none;
    GQA_ASSIGN_OR_RETURN(Value pairs, GetMethod(input, "items").function()(none));
    List items = pairs.list();
    Value index = Value::Int(by_value ? 1 : 0);
    GQA_RETURN_IF_ERROR(SortValues(items, case_sensitive, &index, reverse));
    return Value::MakeList(std::move(items));
  }
  if (name == "sum") {
    GQA_ASSIGN_OR_RETURN(List items, IterateValue(input));
    const Value* attribute = GetArg(a, 0, "attribute");
    const Value* start = GetArg(a, 1, "start");
    Value total = start ? *start : Value::Int(0);
    for (const Value& v : items) {
      Value item = attribute && !attribute->IsNone() ? GetPath(v, *attribute) : v;
      GQA_ASSIGN_OR_RETURN(total, BinaryOp("+", total, item, size_t{64} << 20));
    }
    return total;
  }
  if (name == "wordcount") {
    int64_t n = 0;
    bool in_word = false;
    for (char32_t cp : Utf8CodePoints(ToPyStr(input))) {
      bool w = cp == '_' || (cp < 0x80 ? isalnum(static_cast<int>(cp)) != 0 : !IsPyWhitespace(cp));
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value::Int(n);
  }
  return absl::InvalidArgumentError(absl::StrCat("No filter named '", std::string(name), "'."));
}

}  // namespace gqa::chat
