#include "pipeline/registry.h"

#include <stdexcept>

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

void Registry::add(StageInfo info) {
  if (info.type.empty() || !info.create || info.summary.empty()) {
    throw std::logic_error("stage registration '" + info.type +
                           "' lacks a type name, factory or summary");
  }
  for (const auto& p : info.params) {
    if (p.help.empty()) {
      throw std::logic_error("stage '" + info.type + "' parameter '" + p.name + "' has no help");
    }
  }
  if (types_.contains(info.type)) {
    throw std::logic_error("stage type '" + info.type + "' registered twice");
  }
  auto type = info.type;
  types_.emplace(std::move(type), std::move(info));
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
