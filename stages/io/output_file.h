#pragma once

// What the file-writing sinks share: naming outputs from a template, refusing to replace one
// unless asked, and writing through an AtomicFile (pipeline/atomic_file.h).
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "pipeline/atomic_file.h"
#include "pipeline/output_names.h"
#include "pipeline/stage.h"

namespace framepipe::stages::output_file {

namespace fs = std::filesystem;

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

// The same for one item of a run over many (pipeline/item.h): its input and output folder.
inline fs::path resolve(const RunContext& context, const Item& item, const std::string& pattern) {
  return item.output_dir() /
         expand_output_name(item.path(), pattern, context.stage_name, item.output_dir());
}

// StageInfo::output_names of a sink that writes one file named by its `path` parameter.
inline auto named_by(const Param<std::string>& path) {
  return [&path](const Params& params) { return std::vector<std::string>{params[path]}; };
}

// Outputs replace a file only when the run may overwrite.
inline Replace replace_mode(const RunContext& context) {
  return context.overwrite ? Replace::allowed : Replace::refused;
}

inline void refuse_existing(const fs::path& path, const RunContext& context) {
  if (fs::exists(path) && !context.overwrite) {
    throw std::runtime_error("output '" + path.string() +
                             "' exists; set output.overwrite: true to replace it");
  }
}

// One output file written through an AtomicFile: a hidden temporary name beside its final
// path, renamed into place by commit() (never over a file that appeared meanwhile unless the
// run may overwrite); discard() removes it. Nothing half-written ever sits at the final path,
// whether the run finishes, fails or is cancelled.
class PendingOutput {
 public:
  // Names the final path from `pattern`, refuses to replace an existing file unless the run
  // may overwrite, creates its folder and the temporary file.
  void start(const RunContext& context, const std::string& pattern) {
    final_ = resolve(context, pattern);
    refuse_existing(final_, context);
    create_output_folder(final_.parent_path());
    file_.emplace(final_, replace_mode(context));
  }
  // Appends to the temporary file; throws one line naming the output and the cause.
  void write(std::string_view bytes) { file_->write(bytes); }
  void commit() {
    file_->commit();
    file_.reset();
    committed_ = true;
  }
  void discard() noexcept { file_.reset(); }

  const fs::path& final_path() const { return final_; }
  // For libraries that write by name (libav): see AtomicFile::temp_path().
  const fs::path& temp_path() const { return file_->temp_path(); }
  // For Stage::outputs(): the final path once committed.
  std::vector<fs::path> committed() const {
    return committed_ ? std::vector<fs::path>{final_} : std::vector<fs::path>{};
  }

 private:
  fs::path final_;
  std::optional<AtomicFile> file_;  // from start() until committed or discarded
  bool committed_ = false;
};

}  // namespace framepipe::stages::output_file
