#include "pipeline/params.h"

#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace framepipe {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::boolean:
      return "bool";
    case ParamType::integer:
      return "int";
    case ParamType::number:
      return "number";
    case ParamType::string:
      return "string";
    case ParamType::choice:
      return "choice";
  }
  return "?";
}

std::string format_value(const ParamValue& value) {
  struct Formatter {
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      std::ostringstream out;
      out << v;
      return out.str();
    }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Formatter{}, value);
}

namespace {

ParamSpec make_spec(std::string name, ParamType type, ParamValue default_value,
                    std::vector<std::string> choices, std::string help) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.choices = std::move(choices);
  spec.help = std::move(help);
  return spec;
}

}  // namespace

ParamSpec ParamSpec::boolean(std::string name, bool default_value, std::string help) {
  return make_spec(std::move(name), ParamType::boolean, default_value, {}, std::move(help));
}

ParamSpec ParamSpec::integer(std::string name, std::int64_t default_value, std::string help) {
  return make_spec(std::move(name), ParamType::integer, default_value, {}, std::move(help));
}

ParamSpec ParamSpec::number(std::string name, double default_value, std::string help) {
  return make_spec(std::move(name), ParamType::number, default_value, {}, std::move(help));
}

ParamSpec ParamSpec::string(std::string name, std::string default_value, std::string help) {
  return make_spec(std::move(name), ParamType::string, std::move(default_value), {},
                   std::move(help));
}

ParamSpec ParamSpec::choice(std::string name, std::vector<std::string> choices,
                            std::string default_value, std::string help) {
  return make_spec(std::move(name), ParamType::choice, std::move(default_value), std::move(choices),
                   std::move(help));
}

ParamSpec&& ParamSpec::range(std::optional<double> lo, std::optional<double> hi) && {
  min = lo;
  max = hi;
  return std::move(*this);
}

ParamSpec&& ParamSpec::in_flight() && {
  role = ParamRole::in_flight;
  changes_output = false;
  return std::move(*this);
}

ParamSpec&& ParamSpec::helper_threads() && {
  role = ParamRole::helper_threads;
  changes_output = false;
  return std::move(*this);
}

ParamSpec&& ParamSpec::helper_threads_one_per_core_at_zero() && {
  zero_is_one_per_core = true;
  return std::move(*this).helper_threads();
}

ParamSpec&& ParamSpec::speed_ladder(SpeedLadder rungs) && {
  role = ParamRole::speed_ladder;
  ladder = std::move(rungs);
  return std::move(*this);
}

namespace {

std::string format_bound(double bound, ParamType type) {
  return type == ParamType::integer ? std::to_string(static_cast<std::int64_t>(bound))
                                    : format_value(bound);
}

bool parse_int(const std::string& text, std::int64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  try {
    std::size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string ParamSpec::expectation() const {
  std::string text;
  switch (type) {
    case ParamType::boolean:
      return "true or false";
    case ParamType::string:
      return "a string";
    case ParamType::choice: {
      text = "one of: ";
      for (std::size_t i = 0; i < choices.size(); ++i) text += (i ? ", " : "") + choices[i];
      return text;
    }
    case ParamType::integer:
      text = "an integer";
      break;
    case ParamType::number:
      text = "a number";
      break;
  }
  if (min && max) {
    text += " in [" + format_bound(*min, type) + ", " + format_bound(*max, type) + "]";
  } else if (min) {
    text += " >= " + format_bound(*min, type);
  } else if (max) {
    text += " <= " + format_bound(*max, type);
  }
  return text;
}

std::optional<ParamValue> ParamSpec::parse(const std::string& text, std::string& error) const {
  auto fail = [&] {
    error = "'" + name + "' must be " + expectation() + ", got '" + text + "'";
    return std::nullopt;
  };
  auto in_range = [&](double v) { return (!min || v >= *min) && (!max || v <= *max); };
  switch (type) {
    case ParamType::boolean:
      if (text == "true") return ParamValue{true};
      if (text == "false") return ParamValue{false};
      return fail();
    case ParamType::integer: {
      std::int64_t v = 0;
      if (!parse_int(text, v) || !in_range(static_cast<double>(v))) return fail();
      return ParamValue{v};
    }
    case ParamType::number: {
      double v = 0;
      if (!parse_double(text, v) || !in_range(v)) return fail();
      return ParamValue{v};
    }
    case ParamType::choice:
      for (const auto& c : choices) {
        if (c == text) return ParamValue{text};
      }
      return fail();
    case ParamType::string:
      return ParamValue{text};
  }
  return fail();
}

const ParamValue& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw std::logic_error("parameter '" + name + "' is read but not listed in the stage's params");
  return it->second;
}

const ParamValue* Params::find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

}  // namespace framepipe
