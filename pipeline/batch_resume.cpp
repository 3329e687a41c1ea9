#include "pipeline/batch_resume.h"

#include <fstream>
#include <map>
#include <string>

namespace framepipe {

namespace {

bool done_earlier(const nlohmann::json& entry) {
  if (entry.value("from_earlier_run", false)) return true;
  const auto status = entry.value("status", std::string());
  return status == "ok" || status == "damaged";
}

}  // namespace

void keep_earlier_entries(nlohmann::json& batch, const nlohmann::json& earlier) {
  if (!earlier.is_object() || !earlier.contains("files") || !earlier["files"].is_array()) return;
  std::map<std::string, const nlohmann::json*> earlier_by_name;
  for (const auto& entry : earlier["files"]) {
    if (entry.is_object() && entry.contains("relative") && entry["relative"].is_string() &&
        done_earlier(entry))
      earlier_by_name[entry["relative"].get<std::string>()] = &entry;
  }
  for (auto& entry : batch["files"]) {
    if (entry.value("status", std::string()) != "skipped") continue;
    const auto it = earlier_by_name.find(entry.value("relative", std::string()));
    if (it == earlier_by_name.end()) continue;
    auto kept = *it->second;
    if (!kept.value("from_earlier_run", false)) kept["earlier_status"] = kept["status"];
    kept["status"] = "skipped";
    kept["from_earlier_run"] = true;
    entry = std::move(kept);
  }
}

nlohmann::json read_earlier_batch(const std::filesystem::path& report_root) {
  std::ifstream file(report_root / "batch.json");
  if (!file) return nullptr;
  auto json = nlohmann::json::parse(file, nullptr, false);
  return json.is_discarded() ? nlohmann::json() : json;
}

}  // namespace framepipe
