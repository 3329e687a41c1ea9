#include "pipeline/manifest.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline/json_text.h"

namespace framepipe {

namespace fs = std::filesystem;

namespace {

std::int64_t mtime_ns(const fs::path& path) {
  std::error_code error;
  const auto time = fs::last_write_time(path, error);
  return error ? 0
               : std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch())
                     .count();
}

std::uintmax_t size_of(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  return error ? 0 : size;
}

}  // namespace

std::string config_fingerprint(const Config& config) {
  auto json = config_json(config);
  json["input"].erase("path");
  // Where the reports go changes nothing in the outputs (and differs per shard).
  json["report"].erase("dir");
  // FNV-1a: stable across builds and machines, unlike std::hash.
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : dump_json(json)) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

namespace {

std::map<std::string, Manifest::Entry> read_manifest(const fs::path& path) {
  std::map<std::string, Manifest::Entry> entries;
  std::ifstream file(path);
  if (!file) return entries;
  try {
    const auto json = nlohmann::json::parse(file);
    for (const auto& [key, item] : json.at("files").items()) {
      // Names come back as the bytes they were (json_text.h).
      auto outputs = item.at("outputs").get<std::vector<std::string>>();
      for (auto& output : outputs) output = unescape_invalid_utf8(output);
      entries[unescape_invalid_utf8(key)] = {
          item.at("size").get<std::uintmax_t>(), item.at("mtime_ns").get<std::int64_t>(),
          item.at("config").get<std::string>(), item.at("status").get<std::string>(),
          std::move(outputs)};
    }
  } catch (const nlohmann::json::exception&) {
    entries.clear();  // a damaged manifest only means nothing is skipped
  }
  return entries;
}

}  // namespace

Manifest::Manifest(fs::path output_dir, const std::string& name)
    : path_(output_dir / (name.empty() ? std::string(".framepipe-manifest.json")
                                       : ".framepipe-manifest-" + name + ".json")) {
  entries_ = read_manifest(path_);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(output_dir, error)) {
    const auto file = entry.path().filename().string();
    if (entry.path() == path_ || !file.starts_with(".framepipe-manifest") ||
        !file.ends_with(".json")) {
      continue;
    }
    for (auto& [key, item] : read_manifest(entry.path())) others_.emplace(key, std::move(item));
  }
}

bool Manifest::is_complete(const std::string& key, const fs::path& input,
                           const std::string& config_hash) const {
  const auto complete = [&](const Entry& entry) {
    if (entry.config_hash != config_hash || entry.size != size_of(input) ||
        entry.mtime_ns != mtime_ns(input)) {
      return false;
    }
    return std::all_of(entry.outputs.begin(), entry.outputs.end(), [](const std::string& output) {
      std::error_code unreadable;
      return fs::exists(output, unreadable);
    });
  };
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end() && complete(it->second)) return true;
  const auto [first, last] = others_.equal_range(key);
  return std::any_of(first, last, [&](const auto& item) { return complete(item.second); });
}

void Manifest::record(const std::string& key, const fs::path& input, const std::string& config_hash,
                      const std::string& status, const std::vector<fs::path>& outputs) {
  std::lock_guard lock(mutex_);
  auto& entry = entries_[key];
  entry = {size_of(input), mtime_ns(input), config_hash, status, {}};
  for (const auto& output : outputs) entry.outputs.push_back(output.string());
  save();
}

void Manifest::save() const {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [key, entry] : entries_) {
    files[key] = {{"size", entry.size},
                  {"mtime_ns", entry.mtime_ns},
                  {"config", entry.config_hash},
                  {"status", entry.status},
                  {"outputs", entry.outputs}};
  }
  fs::create_directories(path_.parent_path());
  const auto partial = path_.parent_path() / (path_.filename().string() + ".partial");
  {
    std::ofstream out(partial, std::ios::trunc);
    out << dump_json(nlohmann::json{{"version", 1}, {"files", files}}, 2) << "\n";
  }
  fs::rename(partial, path_);
}

}  // namespace framepipe
