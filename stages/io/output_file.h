#pragma once

// What the file-writing sinks share: naming outputs from a template, refusing to replace one
// unless asked, and writing under a hidden temporary name that is renamed when complete.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "pipeline/output_names.h"
#include "pipeline/stage.h"

namespace framepipe::stages::output_file {

namespace fs = std::filesystem;

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Creates `folder` and its parents; throws one line naming it and the cause when it cannot.
inline void create_output_folder(const fs::path& folder) {
  if (folder.empty()) return;
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) {
    throw std::runtime_error("cannot create the output folder '" + folder.string() +
                             "': " + error.message());
  }
}

// `pattern` under the output folder, with {stem}, {ext} and {stage} filled in
// (pipeline/output_names.h); throws when the name would leave the output folder.
inline fs::path resolve(const RunContext& context, const std::string& pattern) {
  return context.output_dir /
         expand_output_name(context.input_path, pattern, context.stage_name, context.output_dir);
}

// StageInfo::output_names of a sink that writes one file named by its `path` parameter.
inline std::vector<std::string> named_by_path(const Params& params) {
  return {params.string("path")};
}

inline void refuse_existing(const fs::path& path, const RunContext& context) {
  if (fs::exists(path) && !context.overwrite) {
    throw std::runtime_error("output '" + path.string() +
                             "' exists; set output.overwrite: true to replace it");
  }
}

// A hidden name beside `path`, unique across processes and within one (two runs of a batch may
// write the same final name). It keeps the extension: image encoders pick the format by it.
inline fs::path temporary_for(const fs::path& path) {
  static std::atomic<int> counter{0};
  return path.parent_path() / ("." + path.stem().string() + ".partial-" + std::to_string(getpid()) +
                               "-" + std::to_string(counter++) + path.extension().string());
}

// One output file written under a hidden temporary name beside its final path: commit()
// renames it into place; discard() removes it. Nothing half-written ever sits at the final
// path, whether the run finishes, fails or is cancelled.
class PendingOutput {
 public:
  PendingOutput() = default;
  PendingOutput(const PendingOutput&) = delete;
  PendingOutput& operator=(const PendingOutput&) = delete;
  ~PendingOutput() { discard(); }

  // Names the final path from `pattern`, refuses to replace an existing file unless the run
  // may overwrite, creates its folder and picks the temporary name.
  void start(const RunContext& context, const std::string& pattern) {
    final_ = resolve(context, pattern);
    refuse_existing(final_, context);
    create_output_folder(final_.parent_path());
    temp_ = temporary_for(final_);
  }
  void commit() {
    fs::rename(temp_, final_);
    temp_.clear();
    committed_ = true;
  }
  void discard() noexcept {
    if (temp_.empty()) return;
    std::error_code ignored;
    fs::remove(temp_, ignored);
    temp_.clear();
  }

  const fs::path& final_path() const { return final_; }
  const fs::path& temp_path() const { return temp_; }
  // For Stage::outputs(): the final path once committed.
  std::vector<fs::path> committed() const {
    return committed_ ? std::vector<fs::path>{final_} : std::vector<fs::path>{};
  }

 private:
  fs::path final_;
  fs::path temp_;  // empty before start() and once committed or discarded
  bool committed_ = false;
};

}  // namespace framepipe::stages::output_file
