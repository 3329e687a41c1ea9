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

#include "pipeline/inputs.h"
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

// `pattern` under the output folder, with {stem} = the input's file name (a URL's last path
// segment; "stdin" for standard input) without extension, {ext} = its extension without the dot
// (none for standard input), {stage} = the stage's name.
// Throws when the name would leave the output folder: an absolute pattern, or '..' from the pattern
// or from {stem} (an input named '...mp4' has the stem '..').
inline fs::path resolve(const RunContext& context, const std::string& pattern) {
  const fs::path input(is_standard_input(context.input_path) ? kStandardInputStem
                       : is_url(context.input_path)          ? url_file_name(context.input_path)
                                                             : context.input_path);
  auto extension = input.extension().string();
  if (!extension.empty()) extension.erase(0, 1);
  auto name = replace_all(pattern, "{stem}", input.stem().string());
  name = replace_all(name, "{ext}", extension);
  name = replace_all(name, "{stage}", context.stage_name);
  const auto relative = fs::path(name).lexically_normal();
  if (relative.is_absolute() || relative.empty() || *relative.begin() == "..") {
    throw std::runtime_error("output name '" + name + "' (from '" + pattern +
                             "') is outside the output folder '" + context.output_dir.string() +
                             "'; outputs stay under output.dir");
  }
  return context.output_dir / relative;
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
