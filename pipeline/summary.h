#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace framepipe {

// The terminal summary of a run, from its report.json: a compact per-stage table (with the
// decode and encode phases as sub-rows), the conclusions and the advice.
std::string format_summary(const nlohmann::json& report);

// Two runs side by side: fps and wall time, per-stage figures, and the config keys that differ.
std::string format_comparison(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace framepipe
