#pragma once

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/batch.h"
#include "pipeline/config.h"
#include "pipeline/inputs.h"
#include "pipeline/registry.h"

namespace framepipe::app {

class ProgressStream;  // app/progress.h

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
  std::string shard;    // --shard K/N, or "off"; empty: from the environment (pipeline/shard.h)
  int shard_count = 0;  // --shard-count N, for JOB_COMPLETION_INDEX
  bool mpi = false;     // --mpi: rank 0 hands files out to the other ranks (app/mpi_batch.cpp)
  double mpi_timeout_s = 30;
  // A part of each input, as --set input.start / duration / frames / sample_files would set it;
  // empty or 0: unset. Times are seconds or [[hh:]mm:]ss[.fff].
  std::string start;
  std::string duration;
  std::int64_t frames = 0;
  int sample_files = 0;
  std::string report_dir;                     // --report-dir: overrides report.dir; may hold {run}
  std::string progress;                       // --progress FILE|-: JSON Lines progress
  ProgressStream* progress_stream = nullptr;  // `progress`, opened by run_command
};

// The --set overrides --start, --duration, --frames and --sample-files stand for, after the
// config's own --set ones; throws std::invalid_argument naming the option of a bad time.
std::vector<std::string> window_overrides(const RunOptions& options);
// "90", "1:30", "0:01:30.5": seconds; throws std::invalid_argument for anything else.
double parse_seconds(const std::string& text);

// Installs SIGINT / SIGTERM handlers: the first signal asks runs to stop (cancel_requested()),
// the second exits at once. Ignores SIGXFSZ, so a write past RLIMIT_FSIZE fails with EFBIG.
void install_signal_handlers();
const std::atomic<bool>& cancel_requested();
// The run stopped: a stop signal's grace period ends, so writing the report of a cancelled run
// is not cut short (a second signal still exits at once).
void run_stopped();

int run_command(const Registry& registry, const RunOptions& options);
// The batch part of `run`: several files, files_in_parallel at once, or this process's shard
// of them, or over MPI ranks (app/batch_command.cpp).
int run_batch_command(const Config& config, std::vector<BatchInput> inputs,
                      const RunOptions& options);
// Runs the batch in this process, recording into the manifest `manifest_name` (empty: the
// shared one); `extra` is merged into batch.json. Prints the summary and writes the report.
int run_local_batch(const Config& config, std::vector<BatchInput> inputs, const RunOptions& options,
                    const std::string& manifest_name, const nlohmann::json& extra);
// Prints a batch's summary line and writes batch.json and batch.html; returns the exit code.
// With `resume`, the files skipped as done keep the earlier batch.json's entries
// (pipeline/batch_resume.h).
int finish_batch(const Config& config, BatchReport report, bool resume);
#ifdef FRAMEPIPE_HAVE_MPI
// `run --mpi` (app/mpi_batch.cpp): rank 0 hands the files out, largest first, to the other
// ranks as they ask for work and writes the batch report; `name` prefixes the manifests.
int run_mpi_batch_command(const Config& config, const std::vector<BatchInput>& inputs,
                          const RunOptions& options, const std::string& name,
                          const nlohmann::json& extra);
#endif
struct TuneOptions {
  std::string config_path;
  std::string input;   // a file or a folder; empty: the config's input.path
  std::string output;  // the folder tune writes into
  // The sample each candidate runs (--frames, --start, --duration, --sample-files) and --set.
  RunOptions run;
  double budget_s = 600;  // no candidate is started that would end past this
  int max_candidates = 8;
  int repeats = 2;  // runs of each candidate, each beside a run of the best so far
  // Settings tune may also vary though the model cannot predict them: speed-ladder and helper
  // threads parameters ("stages.video.params.preset").
  std::vector<std::string> allow;
  bool quiet = false;
};
// `framepipe tune` (app/tune_command.cpp): writes DIR/tuned.yaml, tune.json, tune.html.
int tune_command(const Registry& registry, const TuneOptions& options);

int validate_command(const Registry& registry, const std::string& config_path,
                     const std::vector<std::string>& overrides, bool effective);
int report_show_command(const std::string& dir);
int report_compare_command(const std::string& a, const std::string& b);
// Merges the batch reports of a sharded run into one (pipeline/batch_merge.h).
int report_merge_command(const std::vector<std::string>& dirs, const std::string& out);
int stages_command(const Registry& registry, const std::string& type, bool markdown);
// The engine's settings (pipeline/settings.h); as Markdown, docs/config.md's tables.
int settings_command(bool markdown);

}  // namespace framepipe::app
