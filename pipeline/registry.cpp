#include "pipeline/registry.h"

#include <algorithm>
#include <numeric>
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

std::string Registry::closest(const std::string& type) const {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(3, type.size() / 2) + 1;
  for (const auto& [name, info] : types_) {
    auto d = edit_distance(type, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace framepipe
