#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/config.h"

namespace framepipe {

// What a batch did to each input, kept in <output.dir>/.framepipe-manifest.json so that
// `--resume` can skip the files whose outputs are complete and whose input and config have
// not changed since.
class Manifest {
 public:
  struct Entry {
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string config_hash;
    std::string status;  // ok or damaged: outputs complete
    std::vector<std::string> outputs;
  };

  // Loads the manifest in `output_dir` when there is one; a missing or unreadable one is empty.
  explicit Manifest(std::filesystem::path output_dir);

  // True when `input` (keyed by its relative path) was completed with this config and is
  // unchanged, and all its outputs still exist.
  bool is_complete(const std::string& key, const std::filesystem::path& input,
                   const std::string& config_hash) const;
  // Records a completed file and saves the manifest (atomically).
  void record(const std::string& key, const std::filesystem::path& input,
              const std::string& config_hash, const std::string& status,
              const std::vector<std::filesystem::path>& outputs);
  std::filesystem::path path() const { return path_; }

 private:
  void save() const;

  std::filesystem::path path_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// A stable fingerprint of what a config makes of a file: everything but the input's path.
std::string config_fingerprint(const Config& config);

}  // namespace framepipe
