#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/run.h"

namespace framepipe {

// The short per-stage table printed at the end of a run (items, busy s, cpu s, fps).
std::string format_summary_table(const RunResult& result);

// The same figures, plus each stage's phases, as JSON: summary.json in the output folder.
nlohmann::json summary_json(const RunResult& result);

}  // namespace framepipe
