#include "pipeline/report_folder.h"

#include <fstream>
#include <stdexcept>

#include "pipeline/report.h"
#include "pipeline/summary.h"

namespace framepipe {

namespace fs = std::filesystem;

namespace {

inline constexpr const char* kBatchSchema = "framepipe-batch/1";

nlohmann::json read_batch(const fs::path& dir) {
  const auto path = dir / "batch.json";
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read '" + path.string() + "'");
  try {
    auto batch = nlohmann::json::parse(file);
    if (!batch.is_object() || batch.value("schema", "") != kBatchSchema ||
        !batch.contains("totals") || !batch["totals"].is_object() || !batch.contains("files") ||
        !batch["files"].is_array()) {
      throw std::runtime_error(std::string("not a ") + kBatchSchema + " report");
    }
    return batch;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("'" + path.string() + "' is not valid JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("'" + path.string() + "': " + e.what());
  }
}

// The newer of two files that both exist.
bool newer(const fs::path& a, const fs::path& b) {
  std::error_code error;
  const auto time_a = fs::last_write_time(a, error);
  const auto time_b = fs::last_write_time(b, error);
  return !error && time_a > time_b;
}

}  // namespace

ReportFolder open_report_folder(const fs::path& dir) {
  const bool run = fs::exists(dir / "report.json");
  const bool batch = fs::exists(dir / "batch.json");
  if (batch && (!run || newer(dir / "batch.json", dir / "report.json")))
    return {ReportKind::batch, dir, read_batch(dir)};
  if (run) return {ReportKind::run, dir, read_report(dir)};
  // A folder `framepipe tune` wrote: its best run's report.
  if (fs::exists(dir / "tune.json") && fs::is_directory(dir / "best"))
    return open_report_folder(dir / "best");
  throw std::runtime_error("'" + dir.string() +
                           "': no report there (neither report.json of a run nor batch.json of a "
                           "batch)");
}

nlohmann::json comparable_report(const ReportFolder& folder) {
  if (folder.kind == ReportKind::run) {
    auto view = folder.json;
    view["kind"] = "run";
    return view;
  }
  const auto& batch = folder.json;
  const auto& totals = batch["totals"];
  auto member = [&](const char* key, nlohmann::json fallback) {
    return batch.contains(key) ? batch[key] : fallback;
  };
  return {{"kind", "batch"},
          {"fps", totals.value("fps", 0.0)},
          {"wall_s", totals.value("wall_s", 0.0)},
          {"frames", totals.value("frames", 0)},
          {"files", totals.value("files", 0)},
          {"bottleneck", member("bottleneck", nullptr)},
          {"limited_by", member("limited_by", nullptr)},
          {"stages", member("stages", nlohmann::json::array())},
          {"advice", member("advice", nlohmann::json::array())},
          {"conclusions", member("conclusions", nlohmann::json::array())},
          {"config", member("config", nlohmann::json::object())}};
}

std::string format_report_folder(const ReportFolder& folder) {
  return folder.kind == ReportKind::run ? format_summary(folder.json)
                                        : format_batch_summary(folder.json);
}

}  // namespace framepipe
