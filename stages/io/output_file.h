#pragma once

// What the file-writing sinks share: naming outputs from a template, refusing to replace one
// unless asked, and writing under a hidden temporary name that is renamed when complete.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "pipeline/stage.h"

namespace framepipe::stages::output_file {

namespace fs = std::filesystem;

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// `pattern` under the output folder, with {stem} = the input's file name without extension.
inline fs::path resolve(const RunContext& context, const std::string& pattern) {
  const auto stem = fs::path(context.input_path).stem().string();
  return context.output_dir / replace_all(pattern, "{stem}", stem);
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

}  // namespace framepipe::stages::output_file
