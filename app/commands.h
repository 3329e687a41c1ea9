#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/inputs.h"
#include "pipeline/registry.h"

namespace framepipe::app {

// Exit codes, documented in the README.
enum ExitCode : int {
  kOk = 0,
  kRunFailed = 1,    // the run, or some files of a batch, failed; nothing left at a final path
  kConfigError = 2,  // bad config, bad --set, bad command line
  kCancelled = 130,  // SIGINT / SIGTERM: in-flight files aborted, report written for the rest
};

struct RunOptions {
  std::string config_path;
  std::string input;       // a file or a folder
  std::string input_list;  // a file listing inputs, one per line; "-" for stdin
  std::string output;
  std::vector<std::string> overrides;
  bool resume = false;
  bool quiet = false;
  bool verbose = false;
};

// Installs SIGINT / SIGTERM handlers: the first signal asks runs to stop (cancel_requested()),
// the second exits at once.
void install_signal_handlers();
const std::atomic<bool>& cancel_requested();

int run_command(const Registry& registry, const RunOptions& options);
// The batch part of `run`: several files, files_in_parallel at once (app/batch_command.cpp).
int run_batch_command(const Config& config, const std::vector<BatchInput>& inputs,
                      const RunOptions& options);
int validate_command(const Registry& registry, const std::string& config_path,
                     const std::vector<std::string>& overrides, bool effective);
int report_show_command(const std::string& dir);
int report_compare_command(const std::string& a, const std::string& b);
int stages_command(const Registry& registry, const std::string& type, bool markdown);

}  // namespace framepipe::app
