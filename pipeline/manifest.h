#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/config.h"

namespace framepipe {

// What a batch did to each input, kept in <output.dir>/.framepipe-manifest.json so that
// `--resume` can skip the files whose outputs are complete and whose input and config have
// not changed since. Processes sharing an output folder (shards, MPI ranks) each record into
// a manifest of their own, .framepipe-manifest-<name>.json, and every one reads them all.
class Manifest {
 public:
  struct Entry {
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string config_hash;
    std::string status;  // ok or damaged: outputs complete
    std::vector<std::string> outputs;
  };

  // Loads every manifest in `output_dir`; a missing one is empty. Records go to
  // .framepipe-manifest.json, or .framepipe-manifest-<name>.json when `name` is not empty.
  // With `resume`, a manifest that exists but cannot be read (truncated, corrupt, a folder)
  // throws ManifestError: skipping nothing would silently redo, or fail, every file. Without,
  // this process's own manifest is replaced at the first record.
  explicit Manifest(std::filesystem::path output_dir, const std::string& name = "",
                    bool resume = false);

  // True when `input` (keyed by its relative path) was completed with this config and is
  // unchanged, and all its outputs still exist, by this process or any other.
  bool is_complete(const std::string& key, const std::filesystem::path& input,
                   const std::string& config_hash) const;
  // Records a completed file and saves the manifest through an AtomicFile: when the save
  // fails (full disk, a folder in its place) it throws one line naming the manifest and the
  // cause, and the manifest on disk is the previous one, intact.
  void record(const std::string& key, const std::filesystem::path& input,
              const std::string& config_hash, const std::string& status,
              const std::vector<std::string>& outputs);
  // record() without the save, for a batch that saves many small files' records at once.
  void add(const std::string& key, const std::filesystem::path& input,
           const std::string& config_hash, const std::string& status,
           const std::vector<std::string>& outputs);
  // Saves every record so far, as record() does; throws like it.
  void save() const;
  std::filesystem::path path() const { return path_; }

 private:
  std::filesystem::path path_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;      // this manifest's, saved by record()
  std::multimap<std::string, Entry> others_;  // the other manifests' in the folder
};

// A manifest `--resume` cannot read; the message names it and says what to do.
class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A stable fingerprint of what a config makes of a file: everything but the input's path and
// where the reports go.
std::string config_fingerprint(const Config& config);

// A file's size in bytes; 0 when it cannot be read (gone, not a regular file).
std::uintmax_t file_size_or_zero(const std::filesystem::path& path);

}  // namespace framepipe
