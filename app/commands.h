#pragma once

#include <string>
#include <vector>

#include "pipeline/registry.h"

namespace framepipe::app {

// Exit codes, documented in the README.
enum ExitCode : int {
  kOk = 0,
  kRunFailed = 1,    // the media or a stage failed; nothing was left at a final path
  kConfigError = 2,  // bad config, bad --set, bad command line
};

struct RunOptions {
  std::string config_path;
  std::string input;
  std::string output;
  std::vector<std::string> overrides;
  bool quiet = false;
};

int run_command(const Registry& registry, const RunOptions& options);
int validate_command(const Registry& registry, const std::string& config_path,
                     const std::vector<std::string>& overrides, bool effective);
int report_show_command(const std::string& dir);
int report_compare_command(const std::string& a, const std::string& b);
int stages_command(const Registry& registry, const std::string& type, bool markdown);

}  // namespace framepipe::app
