#include "pipeline/registry.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "pipeline/config.h"

namespace framepipe {

const char* to_string(StageKind kind) {
  switch (kind) {
    case StageKind::source:
      return "source";
    case StageKind::transform:
      return "transform";
    case StageKind::sink:
      return "sink";
  }
  return "?";
}

const char* to_string(ResourceClass resource) {
  return resource == ResourceClass::io ? "io" : "cpu";
}

const char* to_string(Ordering ordering) {
  switch (ordering) {
    case Ordering::parallel:
      return "parallel";
    case Ordering::serial_in_order:
      return "serial_in_order";
    case Ordering::serial_out_of_order:
      return "serial_out_of_order";
  }
  return "?";
}

const ParamSpec* StageInfo::find_param(const std::string& name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ParamSpec* StageInfo::find_role(ParamRole role) const {
  for (const auto& p : params) {
    if (p.role == role) return &p;
  }
  return nullptr;
}

std::vector<std::string> phase_names(std::string_view phase_list) {
  std::vector<std::string> names;
  std::string name;
  auto flush = [&] {
    if (name.find('=') != std::string::npos) {
      throw std::logic_error("phase '" + name + "': FRAMEPIPE_PHASES takes plain names");
    }
    if (!name.empty()) names.push_back(std::move(name));
    name.clear();
  };
  for (char c : phase_list) {
    if (c == ',') {
      flush();
    } else if (c != ' ') {
      name += c;
    }
  }
  flush();
  return names;
}

namespace {

// The checks of Registry::add that need only the description; each failure is a programming
// error named for the stage's author.
void check_description(const StageInfo& info) {
  auto fail = [&](const std::string& what) {
    throw std::logic_error("stage '" + info.type + "': " + what);
  };
  if (info.type.empty() || !info.create || info.summary.empty()) {
    fail("registration lacks a type name, factory or summary");
  }
  if (info.example.empty()) fail("registration lacks an example");
  std::set<std::string> names;
  for (const auto& p : info.params) {
    if (p.help.empty()) fail("parameter '" + p.name + "' has no help");
    if (!names.insert(p.name).second) fail("parameter '" + p.name + "' declared twice");
    if (p.type == ParamType::choice &&
        std::find(p.choices.begin(), p.choices.end(), std::get<std::string>(p.default_value)) ==
            p.choices.end()) {
      fail("parameter '" + p.name + "' defaults to a value that is not one of its choices");
    }
    if (p.role == ParamRole::speed_ladder && !p.ladder) fail("'" + p.name + "' has no ladder");
    if ((p.role == ParamRole::in_flight || p.role == ParamRole::helper_threads) &&
        p.type != ParamType::integer) {
      fail("parameter '" + p.name + "' counts requests or threads, so it must be an integer");
    }
  }
  std::set<std::string> phases;
  for (const auto& phase : info.phases) {
    if (phase.empty() || !phases.insert(phase).second) fail("phase '" + phase + "' repeated");
  }
  if (!info.helper_threads_phase.empty() && !phases.contains(info.helper_threads_phase)) {
    fail("helper_threads_phase '" + info.helper_threads_phase + "' is not one of its phases");
  }
  if (info.prepares && info.kind != StageKind::sink) fail("only a sink prepares frames");
}

// The example must be what a user can paste: a one-entry YAML list whose entry validates as a
// stage of this type (keys, parameter types and ranges; not the stage's own check, which may
// load a model the example only names).
void check_example(const StageInfo& info, const Registry& registry) {
  auto fail = [&](const std::string& what) {
    throw std::logic_error("stage '" + info.type + "': example '" + info.example + "' " + what);
  };
  YAML::Node list;
  try {
    list = YAML::Load(info.example);
  } catch (const YAML::Exception& e) {
    fail("is not YAML: " + e.msg);
  }
  const auto dash = info.example.find("- ");
  if (!list.IsSequence() || list.size() != 1 || dash == std::string::npos) {
    fail("is not a list of one stage entry");
  }
  StageConfig stage;
  try {
    // The entry as written, after its dash (re-emitting the parsed node could quote otherwise).
    stage = load_stage_text(info.example.substr(dash + 2), registry, false);
  } catch (const ConfigError& e) {
    fail("does not validate: " + e.problems().front());
  }
  if (stage.type != info.type) fail("is of another type, '" + stage.type + "'");
}

}  // namespace

void Registry::add(StageInfo info) {
  check_description(info);
  if (types_.contains(info.type)) {
    throw std::logic_error("stage type '" + info.type + "' registered twice");
  }
  auto type = info.type;
  const auto& added = types_.emplace(type, std::move(info)).first->second;
  try {
    check_example(added, *this);
  } catch (...) {
    types_.erase(type);
    throw;
  }
}

const StageInfo* Registry::find(const std::string& type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<const StageInfo*> Registry::all() const {
  std::vector<const StageInfo*> out;
  for (const auto& [name, info] : types_) out.push_back(&info);
  return out;
}

std::vector<std::string> Registry::types() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : types_) out.push_back(name);
  return out;
}

}  // namespace framepipe
