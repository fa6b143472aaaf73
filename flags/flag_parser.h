// FlagParser: `--name value` / `--name=value` / `--switch` command-line flags
// bound to variables, with errors that name the flag. Small on purpose: the
// tools take a handful of flags each.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gqa {

class FlagParser {
 public:
  explicit FlagParser(std::string usage) : usage_(std::move(usage)) {}

  void AddString(const std::string& name, std::string* value, const std::string& help);
  void AddInt(const std::string& name, int* value, const std::string& help);
  void AddUint64(const std::string& name, std::optional<uint64_t>* value, const std::string& help);
  void AddFloat(const std::string& name, float* value, const std::string& help);
  void AddBool(const std::string& name, bool* value, const std::string& help);  // a switch
  // Two switches, --NAME (sets *value true) and --no-NAME (false); *value
  // keeps its default when neither is given, and giving both is an error.
  void AddOnOff(const std::string& name, bool* value, const std::string& help_on,
                const std::string& help_off);

  // Parses argv[1..]; arguments that are not flags go to positional().
  // INVALID_ARGUMENT names the unknown flag or the bad value.
  absl::Status Parse(int argc, const char* const* argv);

  const std::vector<std::string>& positional() const { return positional_; }
  bool help_requested() const { return help_requested_; }
  std::string Help() const;  // usage plus one line per flag

 private:
  struct Flag {
    bool is_switch;
    std::function<absl::Status(const std::string&)> set;
    std::string help;
  };
  void Add(const std::string& name, bool is_switch,
           std::function<absl::Status(const std::string&)> set, const std::string& help);

  std::string usage_;
  std::map<std::string, Flag> flags_;
  std::vector<std::string> order_;
  std::vector<std::string> positional_;
  struct OnOff {  // AddOnOff's pair: which of the two switches were given
    std::string name;
    bool on = false, off = false;
  };
  std::list<OnOff> on_offs_;  // a list: the switches' setters hold pointers into it
  bool help_requested_ = false;
};

}  // namespace gqa
