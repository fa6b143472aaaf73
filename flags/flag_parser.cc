#include "flags/flag_parser.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace gqa {
namespace {

absl::Status BadValue(const std::string& name, const std::string& value, const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, ": '", value, "' is not ", want));
}

}  // namespace

void FlagParser::Add(const std::string& name, bool is_switch,
                     std::function<absl::Status(const std::string&)> set, const std::string& help) {
  flags_[name] = Flag{is_switch, std::move(set), help};
  order_.push_back(name);
}

void FlagParser::AddString(const std::string& name, std::string* value, const std::string& help) {
  Add(name, false, [value](const std::string& v) { *value = v; return absl::OkStatus(); }, help);
}

void FlagParser::AddInt(const std::string& name, int* value, const std::string& help) {
  Add(name, false, [name, value](const std::string& v) {
    char* end = nullptr;
    errno = 0;
    const long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE || x < INT32_MIN || x > INT32_MAX) {
      return BadValue(name, v, "an integer");
    }
    *value = static_cast<int>(x);
    return absl::OkStatus();
  }, help);
}

void FlagParser::AddUint64(const std::string& name, std::optional<uint64_t>* value,
                           const std::string& help) {
  Add(name, false, [name, value](const std::string& v) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end != '\0' || errno == ERANGE) {
      return BadValue(name, v, "a non-negative integer");
    }
    *value = x;
    return absl::OkStatus();
  }, help);
}

void FlagParser::AddFloat(const std::string& name, float* value, const std::string& help) {
  Add(name, false, [name, value](const std::string& v) {
    char* end = nullptr;
    const float x = std::strtof(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(x)) return BadValue(name, v, "a number");
    *value = x;
    return absl::OkStatus();
  }, help);
}

void FlagParser::AddBool(const std::string& name, bool* value, const std::string& help) {
  Add(name, true, [value](const std::string&) { *value = true; return absl::OkStatus(); }, help);
}

void FlagParser::AddOnOff(const std::string& name, bool* value, const std::string& help_on,
                          const std::string& help_off) {
  OnOff* pair = &on_offs_.emplace_back(OnOff{name});
  Add(name, true, [value, pair](const std::string&) {
    *value = pair->on = true;
    return absl::OkStatus();
  }, help_on);
  Add("no-" + name, true, [value, pair](const std::string&) {
    pair->off = true;
    *value = false;
    return absl::OkStatus();
  }, help_off);
}

absl::Status FlagParser::Parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    const Flag& flag = it->second;
    if (flag.is_switch) {
      if (value) return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    } else if (!value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    if (absl::Status s = flag.set(value.value_or("")); !s.ok()) return s;
  }
  for (const OnOff& pair : on_offs_) {
    if (pair.on && pair.off) {
      return absl::InvalidArgumentError(
          absl::StrCat("give one of --", pair.name, " and --no-", pair.name));
    }
  }
  return absl::OkStatus();
}

std::string FlagParser::Help() const {
  std::string out = usage_ + "\n\nFlags:\n";
  for (const std::string& name : order_) {
    const Flag& f = flags_.at(name);
    absl::StrAppend(&out, "  --", name, f.is_switch ? "" : " VALUE", "\n      ", f.help, "\n");
  }
  return out;
}

}  // namespace gqa
