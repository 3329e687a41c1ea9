#pragma once

// report.dir and --report-dir may hold the placeholder {run}: a timestamp of the run's start
// (20261201-221503, local time), so that repeated runs keep their reports side by side.
#include <ctime>
#include <filesystem>
#include <string>

namespace framepipe {

inline constexpr const char* kRunPlaceholder = "{run}";

// "" when `pattern` is a usable report folder; otherwise what is wrong with it, for an error
// line: any placeholder but {run} would be a folder named literally ("an unknown placeholder
// {rnu} (did you mean '{run}'?); the only placeholder is {run}").
std::string report_dir_problem(const std::string& pattern);

// `pattern` with every {run} replaced by `now` as YYYYMMDD-HHMMSS, followed by -2, -3, … while a
// folder of that name exists; `pattern` as it is when it holds no {run}.
std::filesystem::path expand_report_dir(const std::string& pattern, std::time_t now);

}  // namespace framepipe
