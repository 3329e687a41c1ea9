#include "pipeline/manifest.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline/json_text.h"
#include "pipeline/streamed_file.h"

namespace framepipe {

namespace fs = std::filesystem;

namespace {

// A file's size and when it was last written (nanoseconds since the Unix epoch), from one
// stat(2); both 0 when unreadable.
struct FileStamp {
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;
};

FileStamp stamp_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};
  return {static_cast<std::uintmax_t>(info.st_size),
          std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec};
}

// Manifests written before 2026-12-02 kept libstdc++'s own file_clock count, whose epoch is
// 2174 (so the values were negative): such a value is this much below the Unix one. They still
// match, so --resume after an upgrade redoes nothing.
std::int64_t file_clock_offset_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::file_clock::to_sys(fs::file_time_type{}).time_since_epoch())
      .count();
}

}  // namespace

std::uintmax_t file_size_or_zero(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  return error ? 0 : size;
}

std::string config_fingerprint(const Config& config) {
  auto json = config_json(config);
  json["input"].erase("path");
  // Where the reports go changes nothing in the outputs (and differs per shard).
  json["report"].erase("dir");
  // Nor how a file is isolated; and fingerprints taken before the key existed stay valid.
  json["pipeline"].erase("isolation");
  // Rewrites on (the default) keep the fingerprints taken before the key existed.
  if (json["pipeline"]["rewrites"] == true) json["pipeline"].erase("rewrites");
  // Which files a batch samples changes no file's outputs; a window does, but a run over whole
  // inputs keeps the fingerprint it had before the window keys existed.
  json["input"].erase("sample_files");
  // Nor which kinds of files a folder gives; and a config that keeps the default include keeps
  // the fingerprint it had when the default listed videos only.
  json["input"].erase("kind");
  if (json["input"]["include"] == nlohmann::ordered_json(InputSelection::default_include())) {
    json["input"]["include"] = video_globs();
  }
  // A sequence's rate left at libav's (0) keeps the fingerprint of before the key existed.
  for (const char* key : {"start", "duration", "frames", "fps"}) {
    if (json["input"][key] == 0) json["input"].erase(key);
  }
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

// The entries of the manifest at `path` (none when there is no file); throws ManifestError
// naming it when it exists but is not a manifest this version wrote. `own`: this process's.
std::map<std::string, Manifest::Entry> read_manifest(const fs::path& path, bool own) {
  std::map<std::string, Manifest::Entry> entries;
  std::error_code error;
  if (!fs::exists(fs::symlink_status(path, error))) return entries;
  std::string cause;
  if (!fs::is_regular_file(fs::status(path, error))) {
    cause = "it is not a regular file";
  } else if (std::ifstream file(path); !file) {
    cause = std::strerror(errno);
  } else {
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
      return entries;
    } catch (const nlohmann::json::exception& e) {
      cause = e.what();
    }
  }
  throw ManifestError("manifest '" + path.string() + "' cannot be read (" + cause +
                      "), so --resume cannot tell which files are complete: delete it to "
                      "process every file again" +
                      (own ? ", or run without --resume, which replaces it" : ""));
}

}  // namespace

Manifest::Manifest(fs::path output_dir, const std::string& name, bool resume)
    : path_(output_dir / (name.empty() ? std::string(".framepipe-manifest.json")
                                       : ".framepipe-manifest-" + name + ".json")) {
  // Without --resume nothing is skipped: an unreadable manifest only loses its history.
  const auto load = [&](const fs::path& path) {
    try {
      return read_manifest(path, path == path_);
    } catch (const ManifestError&) {
      if (resume) throw;
      return std::map<std::string, Entry>{};
    }
  };
  entries_ = load(path_);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(output_dir, error)) {
    const auto file = entry.path().filename().string();
    if (entry.path() == path_ || !file.starts_with(".framepipe-manifest") ||
        !file.ends_with(".json")) {
      continue;
    }
    for (auto& [key, item] : load(entry.path())) others_.emplace(key, std::move(item));
  }
}

bool Manifest::is_complete(const std::string& key, const fs::path& input,
                           const std::string& config_hash) const {
  const auto complete = [&](const Entry& entry) {
    const auto [size, written] = stamp_of(input);
    if (entry.config_hash != config_hash || entry.size != size ||
        (entry.mtime_ns != written && entry.mtime_ns != written - file_clock_offset_ns())) {
      return false;
    }
    return std::all_of(entry.outputs.begin(), entry.outputs.end(), [](const std::string& output) {
      std::error_code error;
      return fs::exists(output, error);
    });
  };
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end() && complete(it->second)) return true;
  const auto [first, last] = others_.equal_range(key);
  return std::any_of(first, last, [&](const auto& item) { return complete(item.second); });
}

void Manifest::record(const std::string& key, const fs::path& input, const std::string& config_hash,
                      const std::string& status, const std::vector<std::string>& outputs) {
  add(key, input, config_hash, status, outputs);
  save();
}

void Manifest::add(const std::string& key, const fs::path& input, const std::string& config_hash,
                   const std::string& status, const std::vector<std::string>& outputs) {
  std::lock_guard lock(mutex_);
  auto& entry = entries_[key];
  const auto [size, written] = stamp_of(input);
  entry = {size, written, config_hash, status, outputs};
}

void Manifest::save() const {
  std::lock_guard lock(mutex_);
  std::error_code error;
  fs::create_directories(path_.parent_path(), error);
  if (error) throw std::runtime_error("cannot write '" + path_.string() + "': " + error.message());
  // Entry by entry, laid out as dump_json({files, version}, 2) lays them out (the keys sorted),
  // with no JSON value made for them: a batch of thousands of images saves at every group of them,
  // and each save writes every entry so far.
  write_streamed_file_atomically(path_, [&](const TextSink& write) {
    write(entries_.empty() ? "{\n  \"files\": {}" : "{\n  \"files\": {");
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const auto& [key, entry] = *it;
      write(it == entries_.begin() ? "\n    " : ",\n    ");
      stream_json_string(key, write);
      write(": {\n      \"config\": ");
      stream_json_string(entry.config_hash, write);
      write(",\n      \"mtime_ns\": ");
      stream_json_integer(entry.mtime_ns, write);
      write(",\n      \"outputs\": ");
      if (entry.outputs.empty()) write("[]");
      for (std::size_t i = 0; i < entry.outputs.size(); ++i) {
        write(i == 0 ? "[\n        " : ",\n        ");
        stream_json_string(entry.outputs[i], write);
      }
      if (!entry.outputs.empty()) write("\n      ]");
      write(",\n      \"size\": ");
      stream_json_integer(std::uint64_t{entry.size}, write);
      write(",\n      \"status\": ");
      stream_json_string(entry.status, write);
      write("\n    }");
    }
    if (!entries_.empty()) write("\n  }");
    write(",\n  \"version\": 1\n}\n");
  });
}

}  // namespace framepipe
