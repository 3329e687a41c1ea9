#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/analysis.h"
#include "pipeline/config.h"
#include "pipeline/run.h"

namespace framepipe {

inline constexpr const char* kReportSchema = "framepipe-report/1";

// report.json: the run's figures, conclusions, advice and time series (docs/report.md).
nlohmann::json build_report(const Config& config, const RunResult& result,
                            const RunAnalysis& analysis);

// trace.json in the Chrome Trace Event format: one track per thread, one slice per stage
// call, counters for queue depths, frames in flight and throughput. Opens in Perfetto.
nlohmann::json build_trace(const RunResult& result);

// Writes the report formats asked for ("json", "html", "trace") into `dir`, each under a
// temporary name first; returns the paths written.
std::vector<std::filesystem::path> write_report(const std::filesystem::path& dir,
                                                const std::vector<std::string>& formats,
                                                const nlohmann::json& report,
                                                const RunResult& result);

// Reads DIR/report.json; throws std::runtime_error naming the file and the problem.
nlohmann::json read_report(const std::filesystem::path& dir);

}  // namespace framepipe
