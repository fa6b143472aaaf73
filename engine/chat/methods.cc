// Methods templates call on str, dict and list values (only the ones that do
// not mutate: the ImmutableSandboxedEnvironment refuses the others), and the
// Python helpers the filters share.
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/chat/builtins.h"
#include "engine/common/status_macros.h"

namespace gqa::chat {
namespace {

absl::Status ArgError(const std::string& method, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(method, "() ", what));
}

absl::StatusOr<std::string> StringArg(const CallArgs& args, size_t i, std::string_view name,
                                      const std::string& method) {
  const Value* v = GetArg(args, i, name);
  if (!v || !v->IsString())
    return ArgError(method, absl::StrCat("argument ", i + 1, " must be str"));
  return v->str();
}

// Python's str.split / str.rsplit (from the left only; rsplit differs only with maxsplit).
absl::StatusOr<Value> Split(const std::string& s, const CallArgs& args, bool from_right) {
  const Value* sep = GetArg(args, 0, "sep");
  const Value* max_v = GetArg(args, 1, "maxsplit");
  int64_t maxsplit = max_v && (max_v->IsInt() || max_v->IsBool()) ? max_v->int_value() : -1;
  std::vector<std::string> parts;
  if (!sep || sep->IsNone()) {
    std::vector<char32_t> cps = Utf8CodePoints(s);
    std::vector<std::pair<size_t, size_t>> words;  // [begin, end) in code points
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && IsPyWhitespace(cps[i])) ++i;
      if (i == cps.size()) break;
      size_t b = i;
      while (i < cps.size() && !IsPyWhitespace(cps[i])) ++i;
      words.emplace_back(b, i);
    }
    auto sub = [&](size_t b, size_t e) {
      return Utf8Encode(std::vector<char32_t>(cps.begin() + b, cps.begin() + e));
    };
    if (maxsplit < 0 || static_cast<size_t>(maxsplit) >= words.size()) {
      for (auto [b, e] : words) parts.push_back(sub(b, e));
    } else if (!from_right) {
      for (int64_t k = 0; k < maxsplit; ++k) parts.push_back(sub(words[k].first, words[k].second));
      size_t rest = words[maxsplit].first;
      size_t end = cps.size();
      while (end > rest && IsPyWhitespace(cps[end - 1])) --end;
      parts.push_back(sub(rest, end));
    } else {
      size_t first = words.size() - maxsplit;
      size_t b = 0;
      while (b < cps.size() && IsPyWhitespace(cps[b])) ++b;
      parts.push_back(sub(b, words[first - 1].second));
      for (size_t k = first; k < words.size(); ++k)
        parts.push_back(sub(words[k].first, words[k].second));
    }
  } else {
    if (!sep->IsString()) return ArgError("split", "argument 1 must be str or None");
    const std::string& d = sep->str();
    if (d.empty()) return absl::InvalidArgumentError("empty separator");
    std::vector<size_t> hits;
    for (size_t p = s.find(d); p != std::string::npos; p = s.find(d, p + d.size()))
      hits.push_back(p);
    if (maxsplit >= 0 && static_cast<size_t>(maxsplit) < hits.size()) {
      if (from_right) {
        hits.erase(hits.begin(), hits.end() - maxsplit);
      } else {
        hits.resize(maxsplit);
      }
    }
    size_t prev = 0;
    for (size_t h : hits) {
      parts.push_back(s.substr(prev, h - prev));
      prev = h + d.size();
    }
    parts.push_back(s.substr(prev));
  }
  List out;
  for (std::string& p : parts) out.push_back(Value::String(std::move(p)));
  return Value::MakeList(std::move(out));
}

absl::StatusOr<bool> AffixMatch(const std::string& s, const CallArgs& args, bool prefix) {
  const Value* v = GetArg(args, 0, "");
  if (!v) return ArgError(prefix ? "startswith" : "endswith", "takes at least 1 argument");
  List candidates = v->IsList() ? v->list() : List{*v};
  for (const Value& c : candidates) {
    if (!c.IsString()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix ? "startswith" : "endswith",
                                                     " first arg must be str or a tuple of str"));
    }
    const std::string& a = c.str();
    if (a.size() <= s.size() && (prefix ? s.compare(0, a.size(), a) == 0
                                        : s.compare(s.size() - a.size(), a.size(), a) == 0)) {
      return true;
    }
  }
  return false;
}

// Python's str.title(): a cased letter after a cased letter is lowered, any
// other letter title-cased.
std::string PyTitle(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (char32_t cp : Utf8CodePoints(s)) {
    bool cased = u_hasBinaryProperty(cp, UCHAR_CASED);
    std::string one;
    AppendUtf8(cp, one);
    if (cased) {
      out += prev_cased ? PyLower(one) : Utf8Encode({static_cast<char32_t>(u_totitle(cp))});
    } else {
      out += one;
    }
    prev_cased = cased || (prev_cased && u_hasBinaryProperty(cp, UCHAR_CASE_IGNORABLE));
  }
  return out;
}

absl::StatusOr<Value> Format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      size_t close = fmt.find('}', i);
      if (close == std::string::npos)
        return absl::InvalidArgumentError("Single '{' encountered in format string");
      std::string field = fmt.substr(i + 1, close - i - 1);
      if (field.find_first_of(":!.[") != std::string::npos) {
        return absl::InvalidArgumentError("format specs are not supported in str.format");
      }
      const Value* v = nullptr;
      if (field.empty()) {
        v = auto_index < args.args.size() ? &args.args[auto_index] : nullptr;
        ++auto_index;
      } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
        size_t k = std::stoul(field.substr(0, 9));
        v = k < args.args.size() ? &args.args[k] : nullptr;
      } else {
        for (const auto& [name, kv] : args.kwargs) {
          if (name == field) v = &kv;
        }
      }
      if (!v)
        return absl::InvalidArgumentError(absl::StrCat("format field '", field, "' has no value"));
      out += ToPyStr(*v);
      i = close;
    } else if (c == '}') {
      return absl::InvalidArgumentError("Single '}' encountered in format string");
    } else {
      out += c;
    }
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> CallStringMethod(const std::string& s, std::string_view name, CallArgs& a) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Value* chars = GetArg(a, 0, "chars");
    return Value::String(
        PyStrip(s, chars ? *chars : Value::None(), name != "rstrip", name != "lstrip"));
  }
  if (name == "startswith" || name == "endswith") {
    GQA_ASSIGN_OR_RETURN(bool r, AffixMatch(s, a, name == "startswith"));
    return Value::Bool(r);
  }
  if (name == "split" || name == "rsplit") return Split(s, a, name == "rsplit");
  if (name == "upper") return Value::String(PyUpper(s));
  if (name == "lower") return Value::String(PyLower(s));
  if (name == "title") return Value::String(PyTitle(s));
  if (name == "capitalize") {
    std::vector<char32_t> cps = Utf8CodePoints(s);
    if (cps.empty()) return Value::String("");
    std::string first;
    AppendUtf8(cps[0], first);
    std::string rest = Utf8Encode(std::vector<char32_t>(cps.begin() + 1, cps.end()));
    return Value::String(PyUpper(first) + PyLower(rest));
  }
  if (name == "replace") {
    GQA_ASSIGN_OR_RETURN(std::string old_s, StringArg(a, 0, "old", "replace"));
    GQA_ASSIGN_OR_RETURN(std::string new_s, StringArg(a, 1, "new", "replace"));
    const Value* count_v = GetArg(a, 2, "count");
    int64_t count = count_v && count_v->IsNumber() ? count_v->int_value() : -1;
    CallArgs fa;
    fa.args = {Value::String(old_s), Value::String(new_s)};
    if (count >= 0) fa.args.push_back(Value::Int(count));
    return ApplyFilter("replace", Value::String(s), fa);
  }
  if (name == "format") return Format(s, a);
  if (name == "join") {
    const Value* items = GetArg(a, 0, "iterable");
    if (!items) return ArgError("join", "takes exactly one argument");
    GQA_ASSIGN_OR_RETURN(List list, IterateValue(*items));
    std::string out;
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].IsString()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "sequence item ", i, ": expected str instance, ", list[i].TypeName(), " found"));
      }
      if (i) out += s;
      out += list[i].str();
    }
    return Value::String(std::move(out));
  }
  if (name == "find" || name == "count") {
    GQA_ASSIGN_OR_RETURN(std::string sub, StringArg(a, 0, "sub", std::string(name)));
    if (name == "find") {
      size_t p = s.find(sub);
      if (p == std::string::npos) return Value::Int(-1);
      return Value::Int(static_cast<int64_t>(Utf8CodePoints(s.substr(0, p)).size()));
    }
    if (sub.empty()) return Value::Int(static_cast<int64_t>(Utf8CodePoints(s).size()) + 1);
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value::Int(n);
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    std::vector<char32_t> cps = Utf8CodePoints(s);
    bool r = !cps.empty();
    for (char32_t cp : cps) {
      bool ok = name == "isdigit"   ? u_isdigit(cp)
                : name == "isalpha" ? u_isalpha(cp)
                : name == "isspace" ? IsPyWhitespace(cp)
                                    : (u_isalnum(cp) != 0);
      r = r && ok;
    }
    return Value::Bool(r);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'str' object has no attribute '", std::string(name), "'"));
}

absl::StatusOr<Value> CallDictMethod(const Value& d, std::string_view name, CallArgs& a) {
  if (name == "get") {
    const Value* key = GetArg(a, 0, "key");
    if (!key) return ArgError("get", "expected at least 1 argument, got 0");
    const Value* dflt = GetArg(a, 1, "default");
    if (key->IsString()) {
      if (const Value* v = d.dict().Find(key->str())) return *v;
    }
    return dflt ? *dflt : Value::None();
  }
  if (name == "items" || name == "keys" || name == "values") {
    List out;
    for (const auto& [k, v] : d.dict().entries) {
      if (name == "items") {
        out.push_back(Value::MakeList({Value::String(k), v}, true));
      } else {
        out.push_back(name == "keys" ? Value::String(k) : v);
      }
    }
    return Value::MakeList(std::move(out));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'dict' object has no attribute '", std::string(name), "'"));
}

bool IsStringMethod(std::string_view n) {
  for (const char* m : {"strip", "lstrip", "rstrip",  "startswith", "endswith", "split",  "rsplit",
                        "upper", "lower",  "title",   "capitalize", "replace",  "format", "join",
                        "find",  "count",  "isdigit", "isalpha",    "isspace",  "isalnum"}) {
    if (n == m) return true;
  }
  return false;
}

}  // namespace

const Value* GetArg(const CallArgs& args, size_t index, std::string_view name) {
  if (index < args.args.size()) return &args.args[index];
  if (name.empty()) return nullptr;
  for (const auto& [k, v] : args.kwargs) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value GetMethod(const Value& obj, std::string_view name) {
  if (obj.IsString() && IsStringMethod(name)) {
    std::string s = obj.str();
    std::string n(name);
    return Value::MakeFunction(n, [s, n](CallArgs& a) { return CallStringMethod(s, n, a); });
  }
  if (obj.IsDict() && (name == "get" || name == "items" || name == "keys" || name == "values")) {
    std::string n(name);
    return Value::MakeFunction(n, [obj, n](CallArgs& a) { return CallDictMethod(obj, n, a); });
  }
  if (obj.IsList() && (name == "index" || name == "count")) {
    std::string n(name);
    return Value::MakeFunction(n, [obj, n](CallArgs& a) -> absl::StatusOr<Value> {
      const Value* x = GetArg(a, 0, "");
      if (!x) return ArgError(n, "takes exactly one argument");
      int64_t count = 0;
      for (size_t i = 0; i < obj.list().size(); ++i) {
        if (!PyEquals(obj.list()[i], *x)) continue;
        if (n == "index") return Value::Int(static_cast<int64_t>(i));
        ++count;
      }
      if (n == "index") return absl::InvalidArgumentError("value is not in list");
      return Value::Int(count);
    });
  }
  return Value::Undefined(std::string(name));
}

std::string PyStrip(std::string_view s, const Value& chars, bool left, bool right) {
  std::vector<char32_t> cps = Utf8CodePoints(s);
  std::vector<char32_t> set;
  bool by_space = !chars.IsString();
  if (!by_space) set = Utf8CodePoints(chars.str());
  auto strip_it = [&](char32_t c) {
    return by_space ? IsPyWhitespace(c) : std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip_it(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(cps[e - 1])) --e;
  }
  return Utf8Encode(std::vector<char32_t>(cps.begin() + b, cps.begin() + e));
}

std::string PyLower(std::string_view s) {
  std::string out;
  icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()))
      .toLower(icu::Locale::getRoot())
      .toUTF8String(out);
  return out;
}

std::string PyUpper(std::string_view s) {
  std::string out;
  icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()))
      .toUpper(icu::Locale::getRoot())
      .toUTF8String(out);
  return out;
}

absl::StatusOr<List> IterateValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return List{};
    case Value::Kind::kList:
      return v.list();
    case Value::Kind::kDict: {
      List keys;
      for (const auto& [k, item] : v.dict().entries) keys.push_back(Value::String(k));
      return keys;
    }
    case Value::Kind::kString: {
      List chars;
      for (char32_t cp : Utf8CodePoints(v.str())) {
        std::string c;
        AppendUtf8(cp, c);
        chars.push_back(Value::String(std::move(c)));
      }
      return chars;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("'", v.TypeName(), "' object is not iterable"));
  }
}

absl::StatusOr<int64_t> PyLen(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(Utf8CodePoints(v.str()).size());
    case Value::Kind::kList:
      return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.dict().entries.size());
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("object of type '", v.TypeName(), "' has no len()"));
  }
}

}  // namespace gqa::chat
