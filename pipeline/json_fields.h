#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace framepipe {

// Fields of a report read back from disk, which is user input: a missing or mistyped field
// reads as 0 or "" instead of throwing.
inline double json_number(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

inline std::string json_string(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace framepipe
