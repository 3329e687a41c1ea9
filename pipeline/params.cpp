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

ParamSpec ParamSpec::boolean(std::string name, bool default_value, std::string help) {
  return {std::move(name), ParamType::boolean, default_value, {}, {}, {}, std::move(help)};
}

ParamSpec ParamSpec::integer(std::string name, std::int64_t default_value, std::string help) {
  return {std::move(name), ParamType::integer, default_value, {}, {}, {}, std::move(help)};
}

ParamSpec ParamSpec::number(std::string name, double default_value, std::string help) {
  return {std::move(name), ParamType::number, default_value, {}, {}, {}, std::move(help)};
}

ParamSpec ParamSpec::string(std::string name, std::string default_value, std::string help) {
  return {std::move(name), ParamType::string, std::move(default_value), {}, {}, {},
          std::move(help)};
}

ParamSpec ParamSpec::choice(std::string name, std::vector<std::string> choices,
                            std::string default_value, std::string help) {
  return {std::move(name),    ParamType::choice, std::move(default_value), {}, {},
          std::move(choices), std::move(help)};
}

ParamSpec&& ParamSpec::range(std::optional<double> lo, std::optional<double> hi) && {
  min = lo;
  max = hi;
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
  if (it == values_.end()) throw std::logic_error("parameter '" + name + "' is not declared");
  return it->second;
}

bool Params::boolean(const std::string& name) const { return std::get<bool>(at(name)); }
std::int64_t Params::integer(const std::string& name) const {
  return std::get<std::int64_t>(at(name));
}
double Params::number(const std::string& name) const { return std::get<double>(at(name)); }
const std::string& Params::string(const std::string& name) const {
  return std::get<std::string>(at(name));
}

void require_odd(const Params& params, const std::string& name,
                 std::vector<std::string>& problems) {
  const auto value = params.integer(name);
  if (value % 2 == 0)
    problems.push_back("'" + name + "' must be odd, got " + std::to_string(value));
}

}  // namespace framepipe
