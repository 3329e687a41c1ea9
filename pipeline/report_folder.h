#pragma once

// What `report show` and `report compare` read: a folder resolved to one report, whatever
// wrote it. The one place that knows the kinds of report folders.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace framepipe {

enum class ReportKind { run, batch };

struct ReportFolder {
  ReportKind kind = ReportKind::run;
  std::filesystem::path dir;
  nlohmann::json json;  // report.json (a run) or batch.json (a batch), as read
};

// The report in `dir`: report.json (a single run) or batch.json (a batch); when a folder holds
// both (a run and a batch wrote into one report folder), the newer. A folder `framepipe tune`
// wrote (tune.json) is read as the report of its best settings' latest run (its best/). Throws
// std::runtime_error naming the folder and the problem ("no report there", not valid JSON, not its
// schema).
ReportFolder open_report_folder(const std::filesystem::path& dir);

// The figures `report compare` puts side by side, with the same members whatever the kind:
// kind, fps, wall_s, frames, bottleneck, limited_by, stages (pipeline order), advice,
// conclusions, config; a batch adds files.
nlohmann::json comparable_report(const ReportFolder& folder);

// `report show`: a run's summary (summary.h), or a batch's (files, fps, bottleneck, advice,
// per-stage totals).
std::string format_report_folder(const ReportFolder& folder);

}  // namespace framepipe
