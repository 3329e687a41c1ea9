#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace framepipe {

enum class ParamType { boolean, integer, number, string, choice };
const char* to_string(ParamType type);

using ParamValue = std::variant<bool, std::int64_t, double, std::string>;
std::string format_value(const ParamValue& value);

// One parameter of a stage: the single table that drives config validation, defaults,
// `framepipe stages` and docs/stages.md.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  ParamValue default_value;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> choices;  // for ParamType::choice
  std::string help;

  static ParamSpec boolean(std::string name, bool default_value, std::string help);
  static ParamSpec integer(std::string name, std::int64_t default_value, std::string help);
  static ParamSpec number(std::string name, double default_value, std::string help);
  static ParamSpec string(std::string name, std::string default_value, std::string help);
  static ParamSpec choice(std::string name, std::vector<std::string> choices,
                          std::string default_value, std::string help);
  ParamSpec&& range(std::optional<double> lo, std::optional<double> hi) &&;

  // "an integer in [1, 16384]", "one of: linear, cubic", ...
  std::string expectation() const;
  // Parses YAML scalar text into this parameter's type; nullopt with `error` set when invalid.
  std::optional<ParamValue> parse(const std::string& text, std::string& error) const;
};

// The validated parameters of one stage instance: every declared name has a value.
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}

  bool boolean(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  const std::string& string(const std::string& name) const;
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

// Kernel and window sizes OpenCV needs odd: adds "'name' must be odd, got N" to `problems`
// when the integer parameter `name` is even. For StageInfo::check.
void require_odd(const Params& params, const std::string& name, std::vector<std::string>& problems);

}  // namespace framepipe
