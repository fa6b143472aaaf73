// Python's json.dumps as transformers' tojson filter calls it.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/chat/builtins.h"
#include "engine/common/status_macros.h"

namespace gqa::chat {
namespace {

void DumpString(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (char32_t cp : Utf8CodePoints(s)) {
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (cp < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned>(cp));
        } else if (ensure_ascii && cp > 0x7e && cp != 0x7f) {
          if (cp >= 0x10000) {
            char32_t v = cp - 0x10000;
            out += absl::StrFormat("\\u%04x\\u%04x", static_cast<unsigned>(0xd800 | (v >> 10)),
                                   static_cast<unsigned>(0xdc00 | (v & 0x3ff)));
          } else {
            out += absl::StrFormat("\\u%04x", static_cast<unsigned>(cp));
          }
        } else {
          AppendUtf8(cp, out);
        }
    }
  }
  out += '"';
}

absl::Status Dump(const Value& v, const JsonDumpOptions& o, int level, std::string& out) {
  if (level > 200) return absl::InvalidArgumentError("tojson: value nested too deeply");
  const bool pretty = o.indented;
  auto newline = [&](int l) {
    if (!pretty) return;
    out += '\n';
    for (int i = 0; i < l; ++i) out += o.indent_str;
  };
  switch (v.kind()) {
    case Value::Kind::kNone:
      out += "null";
      return absl::OkStatus();
    case Value::Kind::kBool:
      out += v.bool_value() ? "true" : "false";
      return absl::OkStatus();
    case Value::Kind::kInt:
      absl::StrAppend(&out, v.int_value());
      return absl::OkStatus();
    case Value::Kind::kFloat: {
      double f = v.AsDouble();
      out += std::isnan(f)   ? "NaN"
             : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity")
                             : FloatRepr(f);
      return absl::OkStatus();
    }
    case Value::Kind::kString:
      DumpString(v.str(), o.ensure_ascii, out);
      return absl::OkStatus();
    case Value::Kind::kList: {
      if (v.list().empty()) {
        out += "[]";
        return absl::OkStatus();
      }
      out += '[';
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (i) out += o.item_separator;
        newline(level + 1);
        GQA_RETURN_IF_ERROR(Dump(v.list()[i], o, level + 1, out));
      }
      newline(level);
      out += ']';
      return absl::OkStatus();
    }
    case Value::Kind::kDict: {
      if (v.dict().entries.empty()) {
        out += "{}";
        return absl::OkStatus();
      }
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.dict().entries) entries.push_back(&e);
      if (o.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto* a, const auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += o.item_separator;
        newline(level + 1);
        DumpString(entries[i]->first, o.ensure_ascii, out);
        out += o.key_separator;
        GQA_RETURN_IF_ERROR(Dump(entries[i]->second, o, level + 1, out));
      }
      newline(level);
      out += '}';
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("Object of type ", v.TypeName(), " is not JSON serializable"));
  }
}

}  // namespace

absl::StatusOr<std::string> JsonDump(const Value& v, const JsonDumpOptions& options) {
  std::string out;
  GQA_RETURN_IF_ERROR(Dump(v, options, 0, out));
  return out;
}

}  // namespace gqa::chat
