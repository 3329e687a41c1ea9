#include "pipeline/batch_file.h"

#include "pipeline/analysis.h"
#include "pipeline/report.h"

namespace framepipe {

FileOutcome run_batch_file(const Config& config, const BatchInput& input,
                           const RunEnvironment& environment) {
  FileOutcome outcome;
  outcome.input = input;
  Config file_config = config;
  file_config.input_path = input.path;
  file_config.output_dir = output_folder_of(config.output_dir, input).string();
  const auto run = run_pipeline(file_config, environment);

  outcome.frames = run.frames;
  outcome.wall_s = run.wall_s;
  outcome.damaged_packets = run.counter(counter::damaged_packets);
  outcome.expected_frames = run.counter(counter::expected_frames);
  outcome.status = run.status();
  if (!run.ok()) {
    outcome.error = run.cancelled ? input.path + ": cancelled; its outputs were removed"
                                  : run.error->to_string();
  }
  outcome.outputs.assign(run.outputs.begin(), run.outputs.end());
  // A cancelled or failed file's report covers what ran (RunResult::has_report).
  if (!config.profile || !run.has_report()) return outcome;
  outcome.report_dir = batch_report_root(config) / input.relative;
  if (const auto unwritten = write_batch_report_of(file_config, run, outcome.report_dir);
      !unwritten.empty()) {
    outcome.error = outcome.error.empty() ? unwritten : outcome.error + "; " + unwritten;
    outcome.report_dir.clear();
  }
  return outcome;
}

std::string write_batch_report_of(const Config& config, const RunResult& run,
                                  const std::filesystem::path& dir) {
  try {
    write_report(dir, config.report_formats, build_report(config, run, analyze(config, run)), run);
    return "";
  } catch (const std::exception& e) {
    return "its report was not written: " + std::string(e.what());
  }
}

}  // namespace framepipe
