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

enum class Kind { string, integer, number, boolean, object, array, string_or_null };

bool has_kind(const nlohmann::json& value, Kind kind) {
  switch (kind) {
    case Kind::string:
      return value.is_string();
    case Kind::integer:
      return value.is_number_integer();
    case Kind::number:
      return value.is_number();
    case Kind::boolean:
      return value.is_boolean();
    case Kind::object:
      return value.is_object();
    case Kind::array:
      return value.is_array();
    case Kind::string_or_null:
      return value.is_string() || value.is_null();
  }
  return false;
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::string:
      return "a string";
    case Kind::integer:
      return "an integer";
    case Kind::number:
      return "a number";
    case Kind::boolean:
      return "true or false";
    case Kind::object:
      return "an object";
    case Kind::array:
      return "an array";
    case Kind::string_or_null:
      return "a string or null";
  }
  return "";
}

// `object[key]`, which must be there with `kind`; throws naming the file and the key otherwise.
const nlohmann::json& require(const nlohmann::json& object, const std::string& key, Kind kind,
                              const fs::path& file, const std::string& where) {
  const auto name = where.empty() ? key : where + "." + key;
  const auto it = object.find(key);
  if (it == object.end()) throw std::runtime_error(file.string() + ": '" + name + "' is missing");
  if (!has_kind(*it, kind)) {
    throw std::runtime_error(file.string() + ": '" + name + "' must be " + kind_name(kind) +
                             ", got " + it->dump());
  }
  return *it;
}

// Throws naming the file and the key unless `batch` has every key of a framepipe-batch/1 report
// (docs/report.md) that the merge and batch.html read, each of its type: what follows reads
// only keys that are there, and a file's status is one batch.html knows.
void validate_batch(const nlohmann::json& batch, const fs::path& file) {
  if (!batch.is_object() || !batch.contains("schema") || batch["schema"] != "framepipe-batch/1") {
    throw std::runtime_error(file.string() +
                             ": not a framepipe batch report (schema framepipe-batch/1)");
  }
  require(batch, "pipeline", Kind::string, file, "");
  require(batch, "input", Kind::string, file, "");
  require(batch, "files_in_parallel", Kind::integer, file, "");
  require(batch, "cancelled", Kind::boolean, file, "");
  const auto& totals = require(batch, "totals", Kind::object, file, "");
  for (const auto* key : {"files", "ok", "damaged", "failed", "skipped", "cancelled", "frames"}) {
    require(totals, key, Kind::integer, file, "totals");
  }
  require(totals, "wall_s", Kind::number, file, "totals");
  require(totals, "fps", Kind::number, file, "totals");
  require(require(batch, "budget", Kind::object, file, ""), "capacity", Kind::integer, file,
          "budget");
  if (batch.contains("shard")) {
    require(require(batch, "shard", Kind::object, file, ""), "name", Kind::string, file, "shard");
  }
  const auto& files = require(batch, "files", Kind::array, file, "");
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto where = "files[" + std::to_string(i) + "]";
    if (!files[i].is_object())
      throw std::runtime_error(file.string() + ": '" + where + "' must be an object");
    for (const auto* key : {"input", "relative", "status"}) {
      require(files[i], key, Kind::string, file, where);
    }
    for (const auto* key : {"frames", "expected_frames", "damaged_packets"}) {
      require(files[i], key, Kind::integer, file, where);
    }
    require(files[i], "wall_s", Kind::number, file, where);
    require(files[i], "error", Kind::string_or_null, file, where);
    require(files[i], "report", Kind::string_or_null, file, where);
    require(files[i], "outputs", Kind::array, file, where);
    const auto& status = files[i]["status"].get_ref<const std::string&>();
    if (status != "ok" && status != "damaged" && status != "failed" && status != "skipped" &&
        status != "cancelled") {
      throw std::runtime_error(file.string() + ": '" + where +
                               ".status' must be ok, damaged, failed, skipped or cancelled, got " +
                               files[i]["status"].dump());
    }
  }
}

fs::path normal(const fs::path& path) { return fs::absolute(path).lexically_normal(); }

struct StageSum {
  int files = 0;
  double items = 0, busy_s = 0, cpu_s = 0, runnable_s = 0, sleeping_s = 0, starved_s = 0,
         waiting_for_thread_s = 0, blocked_s = 0;
};

// Adds a file's report.json stage figures to `sums`, in first-seen order in `order`.
void add_stages(const fs::path& report, std::map<std::string, StageSum>& sums,
                std::vector<std::string>& order) {
  std::ifstream file(report);
  if (!file) return;  // no report for this file (failed, skipped, or profile: false)
  const auto json = nlohmann::json::parse(file, nullptr, false);
  if (!json.is_object() || !json.contains("stages") || !json["stages"].is_array()) return;
  for (const auto& stage : json["stages"]) {
    if (!stage.is_object()) continue;
    // A report.json is input too: a figure that is missing or not a number counts 0.
    const auto figure = [&](const char* key) {
      return stage.contains(key) && stage[key].is_number() ? stage[key].get<double>() : 0.0;
    };
    const auto name = stage.contains("name") && stage["name"].is_string()
                          ? stage["name"].get<std::string>()
                          : std::string();
    if (!sums.contains(name)) order.push_back(name);
    auto& sum = sums[name];
    ++sum.files;
    sum.items += figure("items");
    sum.busy_s += figure("busy_s");
    sum.cpu_s += figure("cpu_s");
    sum.runnable_s += figure("runnable_s");
    sum.sleeping_s += figure("sleeping_s");
    sum.starved_s += figure("starved_s");
    sum.waiting_for_thread_s += figure("waiting_for_thread_s");
    sum.blocked_s += figure("blocked_s");
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
    validate_batch(batch, dir / "batch.json");
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
                          {"runnable_s", sum.runnable_s},
                          {"sleeping_s", sum.sleeping_s},
                          {"starved_s", sum.starved_s},
                          {"waiting_for_thread_s", sum.waiting_for_thread_s},
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
