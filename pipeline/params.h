#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace framepipe {

enum class ParamType { boolean, integer, number, string, choice };
const char* to_string(ParamType type);

using ParamValue = std::variant<bool, std::int64_t, double, std::string>;
std::string format_value(const ParamValue& value);

class Params;

// What a parameter tunes, for the analysis' advice and `framepipe tune`: the engine reads these
// roles, never a stage's parameter names.
enum class ParamRole {
  none,
  in_flight,       // requests the stage keeps in flight at once (an HTTP or database sink)
  helper_threads,  // threads the stage's library starts for its work; 0 lets the library choose
  speed_ladder,    // an ordered choice from fastest to slowest (an encoder's presets)
};

// The rungs of a speed ladder, fastest first, for one stage instance: which rungs exist may
// depend on its other parameters (an encoder's presets on its codec); empty where none apply.
using SpeedLadder = std::function<std::vector<std::string>(const Params&)>;

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
  ParamRole role = ParamRole::none;
  // Whether another value gives another output (a preset, crf, a size) or only another speed
  // (threads, requests in flight): `tune` changes the first kind only when asked to.
  bool changes_output = true;
  SpeedLadder ladder{};  // for ParamRole::speed_ladder
  // For ParamRole::helper_threads: whether 0 means one thread per core (rather than the
  // library's own choice), so that `tune` does not try the core count as another setting.
  bool zero_is_one_per_core = false;

  static ParamSpec boolean(std::string name, bool default_value, std::string help);
  static ParamSpec integer(std::string name, std::int64_t default_value, std::string help);
  static ParamSpec number(std::string name, double default_value, std::string help);
  static ParamSpec string(std::string name, std::string default_value, std::string help);
  static ParamSpec choice(std::string name, std::vector<std::string> choices,
                          std::string default_value, std::string help);
  ParamSpec&& range(std::optional<double> lo, std::optional<double> hi) &&;
  // Roles; the first two change only the speed, not the output.
  ParamSpec&& in_flight() &&;
  ParamSpec&& helper_threads() &&;
  // helper_threads() whose 0 means one per core.
  ParamSpec&& helper_threads_one_per_core_at_zero() &&;
  ParamSpec&& speed_ladder(SpeedLadder rungs) &&;

  // "an integer in [1, 16384]", "one of: linear, cubic", ...
  std::string expectation() const;
  // Parses YAML scalar text into this parameter's type; nullopt with `error` set when invalid.
  std::optional<ParamValue> parse(const std::string& text, std::string& error) const;
};

// A typed handle on one parameter, declared once by the stage that reads it
// (`static inline const Param<int> width{...}` on the stage class), listed in its StageInfo, and
// read as `params[width]`: the name is written once, and the C++ type matches the declared one.
// T is bool, an integer type, double or std::string; a choice may map each name to a T of any
// type (`Param<int>::choice("axis", {{"horizontal", 1}, {"vertical", 0}}, ...)`).
template <typename T>
class Param {
 public:
  Param(std::string name, T default_value,
        std::string help) requires(!std::is_same_v<T, std::string>)
      : spec_(make_spec(std::move(name), default_value, std::move(help))) {}
  Param(std::string name, std::string default_value,
        std::string help) requires std::is_same_v<T, std::string>
      : spec_(ParamSpec::string(std::move(name), std::move(default_value), std::move(help))) {}

  // One of `options`, read as its own name.
  static Param choice(std::string name, std::vector<std::string> options,
                      std::string default_choice,
                      std::string help) requires std::is_same_v<T, std::string> {
    return Param(ParamSpec::choice(std::move(name), std::move(options), std::move(default_choice),
                                   std::move(help)),
                 {});
  }
  // One of the names in `options`, read as the value it maps to.
  static Param choice(std::string name, std::vector<std::pair<std::string, T>> options,
                      std::string default_choice,
                      std::string help) requires(!std::is_same_v<T, std::string>) {
    std::vector<std::string> names;
    std::vector<T> values;
    for (auto& [option, value] : options) {
      names.push_back(std::move(option));
      values.push_back(std::move(value));
    }
    return Param(ParamSpec::choice(std::move(name), std::move(names), std::move(default_choice),
                                   std::move(help)),
                 std::move(values));
  }

  // ParamSpec's builders change the spec in place (assigning their result would self-move it).
  Param&& range(std::optional<double> lo, std::optional<double> hi) && {
    std::move(spec_).range(lo, hi);
    return std::move(*this);
  }
  Param&& in_flight() && {
    std::move(spec_).in_flight();
    return std::move(*this);
  }
  Param&& helper_threads() && {
    std::move(spec_).helper_threads();
    return std::move(*this);
  }
  Param&& helper_threads_one_per_core_at_zero() && {
    std::move(spec_).helper_threads_one_per_core_at_zero();
    return std::move(*this);
  }
  Param&& speed_ladder(SpeedLadder rungs) && {
    std::move(spec_).speed_ladder(std::move(rungs));
    return std::move(*this);
  }

  const std::string& name() const { return spec_.name; }
  const ParamSpec& spec() const { return spec_; }
  // For StageInfo::params, at registration: a narrow integer handle must have a range that fits.
  operator ParamSpec() const {  // implicit, so a stage lists its handles as its parameters
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                  !std::is_same_v<T, std::int64_t>) {
      const bool fits = spec_.min && spec_.max &&
                        *spec_.min >= static_cast<double>(std::numeric_limits<T>::min()) &&
                        *spec_.max <= static_cast<double>(std::numeric_limits<T>::max());
      if (mapped_.empty() && !fits) {
        throw std::logic_error("parameter '" + spec_.name +
                               "' is read as a narrow integer: give it a range that fits");
      }
    }
    return spec_;
  }

  // A string is read in place; other types by value (an integer narrowed to T).
  using Value = std::conditional_t<std::is_same_v<T, std::string>, const std::string&, T>;

  Value read(const ParamValue& value) const {
    if (!mapped_.empty()) {
      const auto& name = std::get<std::string>(value);
      for (std::size_t i = 0; i < spec_.choices.size(); ++i) {
        if (spec_.choices[i] == name) return mapped_[i];
      }
      throw std::logic_error("parameter '" + spec_.name + "' has no choice '" + name + "'");
    }
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
      return std::get<T>(value);
    } else if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(std::get<std::int64_t>(value));
    } else {
      return std::get<double>(value);
    }
  }

 private:
  Param(ParamSpec spec, std::vector<T> mapped)
      : spec_(std::move(spec)), mapped_(std::move(mapped)) {}

  static ParamSpec make_spec(std::string name, T default_value, std::string help) {
    if constexpr (std::is_same_v<T, bool>) {
      return ParamSpec::boolean(std::move(name), default_value, std::move(help));
    } else if constexpr (std::is_integral_v<T>) {
      return ParamSpec::integer(std::move(name), static_cast<std::int64_t>(default_value),
                                std::move(help));
    } else {
      static_assert(std::is_floating_point_v<T>, "Param<T>: bool, integer, double or string");
      return ParamSpec::number(std::move(name), static_cast<double>(default_value),
                               std::move(help));
    }
  }

  ParamSpec spec_;
  std::vector<T> mapped_;  // a choice's values, by position in spec_.choices
};

// The validated parameters of one stage instance: every declared name has a value. A stage
// reads them through its Param handles.
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}

  template <typename T>
  typename Param<T>::Value operator[](const Param<T>& param) const {
    return param.read(at(param.name()));
  }
  const std::map<std::string, ParamValue>& values() const { return values_; }
  // The value of a parameter named by the engine from a stage's ParamSpec (its roles), or null
  // when the stage has no such parameter.
  const ParamValue* find(const std::string& name) const;

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

// Kernel and window sizes OpenCV needs odd: adds "'name' must be odd, got N" to `problems`
// when `size` is even. For StageInfo::check.
template <typename T>
void require_odd(const Params& params, const Param<T>& size, std::vector<std::string>& problems) {
  const auto value = params[size];
  if (value % 2 == 0)
    problems.push_back("'" + size.name() + "' must be odd, got " + std::to_string(value));
}

}  // namespace framepipe
