#include "pipeline/batch_merge.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

namespace framepipe {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const fs::path& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error(path.string() + ": cannot read it");
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

fs::path normal(const fs::path& path) { return fs::absolute(path).lexically_normal(); }

struct StageSum {
  int files = 0;
  double items = 0, busy_s = 0, cpu_s = 0, off_cpu_s = 0, starved_s = 0, blocked_s = 0;
};

// Adds a file's report.json stage figures to `sums`, in first-seen order in `order`.
void add_stages(const fs::path& report, std::map<std::string, StageSum>& sums,
                std::vector<std::string>& order) {
  std::ifstream file(report);
  if (!file) return;  // no report for this file (failed, skipped, or profile: false)
  const auto json = nlohmann::json::parse(file, nullptr, false);
  if (json.is_discarded() || !json.contains("stages")) return;
  for (const auto& stage : json["stages"]) {
    const auto name = stage.value("name", std::string());
    if (!sums.contains(name)) order.push_back(name);
    auto& sum = sums[name];
    ++sum.files;
    sum.items += stage.value("items", 0.0);
    sum.busy_s += stage.value("busy_s", 0.0);
    sum.cpu_s += stage.value("cpu_s", 0.0);
    sum.off_cpu_s += stage.value("off_cpu_s", 0.0);
    sum.starved_s += stage.value("starved_s", 0.0);
    sum.blocked_s += stage.value("blocked_s", 0.0);
  }
}

}  // namespace

std::vector<fs::path> find_batch_reports(const std::vector<fs::path>& dirs) {
  std::vector<fs::path> found;
  for (const auto& dir : dirs) {
    std::vector<fs::path> shards;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      if (entry.path().filename().string().starts_with("shard-") &&
          fs::exists(entry.path() / "batch.json")) {
        shards.push_back(entry.path());
      }
    }
    if (shards.empty() && fs::exists(dir / "batch.json")) {
      found.push_back(dir);
      continue;
    }
    if (shards.empty()) {
      throw std::runtime_error(dir.string() +
                               ": no batch.json here, nor in any shard-*/ folder in it");
    }
    std::sort(shards.begin(), shards.end());
    found.insert(found.end(), shards.begin(), shards.end());
  }
  return found;
}

nlohmann::json merge_batch_reports(const std::vector<fs::path>& dirs, const fs::path& out) {
  if (dirs.empty()) throw std::runtime_error("no batch reports to merge");
  const auto out_dir = normal(out);
  std::map<std::string, std::pair<nlohmann::json, std::string>> files;  // by relative path
  std::map<std::string, StageSum> stages;
  std::vector<std::string> stage_order;
  nlohmann::json shards = nlohmann::json::array();
  nlohmann::json first;
  nlohmann::json totals = {{"files", 0},   {"ok", 0},        {"damaged", 0}, {"failed", 0},
                           {"skipped", 0}, {"cancelled", 0}, {"frames", 0},  {"wall_s", 0.0}};
  bool cancelled = false;
  std::string slowest;
  double slowest_wall = -1;
  for (const auto& dir : dirs) {
    const auto batch = read_json(dir / "batch.json");
    if (batch.value("schema", std::string()) != "framepipe-batch/1") {
      throw std::runtime_error((dir / "batch.json").string() +
                               ": not a framepipe batch report (schema framepipe-batch/1)");
    }
    if (first.is_null()) first = batch;
    const auto root = normal(dir);
    const auto name = batch.contains("shard") ? batch["shard"].value("name", dir.string())
                                              : dir.filename().string();
    for (const auto& key : {"files", "ok", "damaged", "failed", "skipped", "cancelled"}) {
      totals[key] = totals[key].get<int>() + batch["totals"][key].get<int>();
    }
    totals["frames"] =
        totals["frames"].get<std::int64_t>() + batch["totals"]["frames"].get<std::int64_t>();
    const double wall = batch["totals"]["wall_s"].get<double>();
    totals["wall_s"] = std::max(totals["wall_s"].get<double>(), wall);
    cancelled = cancelled || batch.value("cancelled", false);
    if (wall > slowest_wall) {
      slowest_wall = wall;
      slowest = name;
    }
    shards.push_back({{"shard", name},
                      {"report", root.lexically_relative(out_dir).generic_string()},
                      {"files", batch["totals"]["files"]},
                      {"frames", batch["totals"]["frames"]},
                      {"failed", batch["totals"]["failed"]},
                      {"wall_s", wall},
                      {"fps", batch["totals"]["fps"]}});
    for (auto entry : batch["files"]) {
      const auto relative = entry["relative"].get<std::string>();
      if (const auto it = files.find(relative); it != files.end()) {
        throw std::runtime_error("'" + relative + "' is in both " + it->second.second + " and " +
                                 dir.string() + ": merge the shards of one sharded run");
      }
      if (entry["report"].is_string()) {
        const auto report = root / entry["report"].get<std::string>();
        add_stages(report / "report.json", stages, stage_order);
        entry["report"] = report.lexically_relative(out_dir).generic_string();
      }
      files.emplace(relative, std::make_pair(std::move(entry), dir.string()));
    }
  }
  const auto frames = totals["frames"].get<std::int64_t>();
  const auto wall = totals["wall_s"].get<double>();
  totals["fps"] = wall > 0 ? static_cast<double>(frames) / wall : 0.0;
  nlohmann::json rows = nlohmann::json::array();
  for (auto& [relative, entry] : files) rows.push_back(std::move(entry.first));
  nlohmann::json stage_rows = nlohmann::json::array();
  for (const auto& name : stage_order) {
    const auto& sum = stages[name];
    stage_rows.push_back({{"name", name},
                          {"files", sum.files},
                          {"items", static_cast<std::int64_t>(sum.items)},
                          {"busy_s", sum.busy_s},
                          {"cpu_s", sum.cpu_s},
                          {"off_cpu_s", sum.off_cpu_s},
                          {"starved_s", sum.starved_s},
                          {"blocked_s", sum.blocked_s}});
  }
  return {{"schema", "framepipe-batch/1"},
          {"pipeline", first["pipeline"]},
          {"input", first["input"]},
          {"files_in_parallel", first["files_in_parallel"]},
          {"cancelled", cancelled},
          {"totals", totals},
          {"budget",
           {{"capacity", first["budget"]["capacity"]},
            {"t", nlohmann::json::array()},
            {"in_use", nlohmann::json::array()}}},
          {"shards", shards},
          {"slowest_shard", slowest},
          {"stages", stage_rows},
          {"files", rows}};
}

}  // namespace framepipe
