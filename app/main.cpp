#include <malloc.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <opencv2/core/utility.hpp>

#include "app/commands.h"
#include "pipeline/isolated_file.h"
#include "pipeline/safe_text.h"
#include "stages/register_all.h"

namespace {

// The message of a log line as the user may see it: a file name cannot start a new line or send
// a terminal escape sequence, and a URL's password is "***" (pipeline/safe_text.h).
class SafeMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&,
              spdlog::memory_buf_t& out) override {
    const auto text =
        framepipe::safe_line(std::string_view(message.payload.data(), message.payload.size()));
    out.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SafeMessage>();
  }
};

#ifdef FRAMEPIPE_HAVE_MPI
constexpr const char* kMpiHelp =
    "under mpirun: rank 0 hands the batch's files out, largest first, to the other ranks and "
    "writes one batch report (docs/distributed.md)";
#else
constexpr const char* kMpiHelp =
    "unavailable: this framepipe was built without MPI (docs/distributed.md)";
#endif
// --frames, --start, --duration, --sample-files: a part of each input (input.frames, ...), for
// `run` and for the runs `tune` measures.
void add_sample_options(CLI::App& command, framepipe::app::RunOptions& options) {
  command
      .add_option("--frames", options.frames,
                  "at most N frames of each input (input.frames), e.g. to profile or tune on a "
                  "sample")
      ->check(CLI::PositiveNumber);
  command.add_option("--start", options.start,
                     "start T into each input (input.start): seconds or [[hh:]mm:]ss; the source "
                     "seeks to the keyframe before T");
  command.add_option("--duration", options.duration,
                     "cover T of each input from the start (input.duration): seconds or "
                     "[[hh:]mm:]ss");
  command
      .add_option("--sample-files", options.sample_files,
                  "only K of a folder's files, spread evenly over their sorted list "
                  "(input.sample_files)")
      ->check(CLI::PositiveNumber);
}
}  // namespace

int main(int argc, char** argv) {
  using framepipe::app::kConfigError;
  // Errors go to stderr (spdlog's default logger writes to stdout): stdout carries only the
  // results, the summary, output paths and the batch line.
  spdlog::set_default_logger(spdlog::stderr_color_mt("framepipe"));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SafeMessage>('*').set_pattern("%^%l%$: %*");
  spdlog::set_formatter(std::move(formatter));
  // framepipe runs frames in parallel itself; OpenCV's own parallel loops inside a stage would
  // enter a second oneTBB arena and block the calling worker while they wait for a slot.
  cv::setNumThreads(0);
  // Frame buffers are megabytes each. By default glibc maps and unmaps each one, so every new
  // frame costs fresh zeroed pages (a page fault per 4 KiB); keeping freed buffers in the heap
  // lets the next frame reuse them. Memory stays bounded by max_frames_in_flight either way.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  // One file of a batch under pipeline.isolation: process, started by the batch itself
  // (pipeline/isolated_file.h); not a command for users, so not in --help.
  if (argc == 3 && std::string_view(argv[1]) == framepipe::kFileWorkerCommand) {
    framepipe::Registry registry;
    framepipe::stages::register_all(registry);
    framepipe::app::install_signal_handlers();
    return framepipe::file_worker_main(argv[2], registry, &framepipe::app::cancel_requested());
  }

  CLI::App cli{
      "framepipe runs configurable video pipelines: libav decode -> OpenCV filters on oneTBB -> "
      "libav encode, and tells you where the time went."};
  cli.set_version_flag("--version", std::string("framepipe ") + FRAMEPIPE_VERSION);
  cli.require_subcommand(1);
  cli.footer(
      "Exit codes: 0 ok; 1 the run (or some files of a batch) failed, with no partial output "
      "left; 2 config or usage error; 130 cancelled by SIGINT/SIGTERM.\nExample: framepipe run "
      "configs/default.yaml --input clip.mp4 "
      "--set stages.blur.params.sigma=3");

  framepipe::app::RunOptions run;
  auto* run_cmd = cli.add_subcommand("run", "Run a pipeline over one input file");
  run_cmd->add_option("config", run.config_path, "pipeline config (YAML)")->required();
  run_cmd->add_option("-i,--input", run.input,
                      "input video, URL, '-' for standard input (outputs named 'stdin'), or a "
                      "folder to process every video in it (overrides input.path; see "
                      "input.include / exclude / recursive)");
  run_cmd->add_option("--input-list", run.input_list,
                      "a file listing input videos, one per line ('-' reads stdin)");
  run_cmd->add_flag("--resume", run.resume,
                    "skip files completed by an earlier run with the same config (recorded in "
                    "the output folder's .framepipe-manifest.json)");
  run_cmd->add_flag("-v,--verbose", run.verbose, "print a line for every file of a batch");
  run_cmd->add_option("-o,--output", run.output, "output folder (overrides output.dir)");
  run_cmd->add_option("-s,--set", run.overrides,
                      "override a config key, e.g. stages.blur.params.sigma=3 or "
                      "pipeline.threads=2 (repeatable)");
  run_cmd->add_flag("-q,--quiet", run.quiet,
                    "print only errors, warnings, the output and report paths and the batch "
                    "line; no progress line");
  run_cmd->add_option("--report-dir", run.report_dir,
                      "report folder (overrides report.dir); {run} in it is the run's start "
                      "time, e.g. out/reports/{run} -> out/reports/20261201-221503 (-2, -3... "
                      "when it exists)");
  run_cmd->add_option("--progress", run.progress,
                      "write progress as JSON Lines to FILE, or to standard output with '-' "
                      "(the run's other standard output then goes to stderr): about two lines a "
                      "second and a last one with \"state\": \"end\" (docs/report.md)");
  run_cmd->add_option(
      "--shard", run.shard,
      "run shard K of N (K from 0 to N-1) of a batch: files balanced by size, the report in "
      "<report dir>/shard-K-of-N/ (join them with `report merge`). Without it the shard comes "
      "from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX (count from "
      "--shard-count or FRAMEPIPE_SHARD_COUNT); an explicit --shard wins, 'off' ignores them");
  run_cmd->add_option("--shard-count", run.shard_count,
                      "the number of shards when the index comes from JOB_COMPLETION_INDEX "
                      "(Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID");
  add_sample_options(*run_cmd, run);
  run_cmd->add_flag("--mpi", run.mpi, kMpiHelp);
  run_cmd
      ->add_option("--mpi-timeout", run.mpi_timeout_s,
                   "seconds without a message after which an MPI rank counts as lost (its "
                   "files fail; needs `mpirun --enable-recovery` to outlive a dead rank)")
      ->check(CLI::Range(1.0, 86400.0));

  framepipe::app::TuneOptions tune;
  std::string tune_budget = "10:00";
  auto* tune_cmd = cli.add_subcommand(
      "tune",
      "Find the fastest settings for a config: measure it on a sample, let the throughput model "
      "propose the settings it predicts fastest, measure them beside the best so far, refit, "
      "repeat (docs/tuning.md)");
  tune_cmd->add_option("config", tune.config_path, "pipeline config (YAML)")->required();
  tune_cmd->add_option("-i,--input", tune.input,
                       "input video or folder to measure on (overrides input.path)");
  tune_cmd
      ->add_option("-o,--output", tune.output,
                   "folder for tuned.yaml, tune.json, tune.html and each measured run's "
                   "report (runs/, baseline/, best/)")
      ->required();
  add_sample_options(*tune_cmd, tune.run);
  tune_cmd->add_option("-s,--set", tune.run.overrides,
                       "override a config key for every run, as `run --set` (repeatable)");
  tune_cmd
      ->add_option("--budget", tune_budget,
                   "time for the whole tune: seconds or [[hh:]mm:]ss; no candidate starts "
                   "that would end past it")
      ->capture_default_str();
  tune_cmd
      ->add_option("--max-candidates", tune.max_candidates, "at most this many candidates measured")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  tune_cmd
      ->add_option("--repeats", tune.repeats,
                   "runs of each candidate, each beside a run of the best so far; a candidate "
                   "is kept only when all its runs beat all of the best's")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  tune_cmd->add_option(
      "--allow", tune.allow,
      "also measure KEY, whose gain the model cannot predict: a speed-ladder parameter (encode's "
      "preset: faster rungs, one by one; changes the output) or a library's helper threads "
      "(decode's threads), e.g. --allow stages.video.params.preset (repeatable)");
  tune_cmd->add_flag("-q,--quiet", tune.quiet, "print only the summary and errors; no progress");

  std::string validate_config;
  std::vector<std::string> validate_overrides;
  bool effective = false;
  auto* validate_cmd =
      cli.add_subcommand("validate", "Check a config without opening any media; exit 0 if valid");
  validate_cmd->add_option("config", validate_config, "pipeline config (YAML)")->required();
  validate_cmd->add_option("-s,--set", validate_overrides, "override a config key (repeatable)");
  validate_cmd->add_flag("--effective", effective,
                         "print the config with every default filled in: exactly what will run");

  std::string stage_type;
  bool markdown = false;
  auto* stages_cmd = cli.add_subcommand("stages", "List stage types with their parameters");
  stages_cmd->add_option("type", stage_type, "show only this stage type");
  stages_cmd->add_flag("--markdown", markdown, "print the reference as Markdown (docs/stages.md)");

  bool settings_as_markdown = false;
  auto* settings_cmd = cli.add_subcommand(
      "settings",
      "List the engine's settings (a config's pipeline, input, output and report keys) with their "
      "types, defaults and help");
  settings_cmd->add_flag("--markdown", settings_as_markdown,
                         "print them as Markdown (the tables of docs/config.md)");

  std::string report_dir;
  std::vector<std::string> compared;
  auto* report_cmd = cli.add_subcommand("report", "Read the reports runs wrote");
  report_cmd->require_subcommand(1);
  auto* show_cmd = report_cmd->add_subcommand("show", "Print a run's summary from DIR/report.json");
  show_cmd->add_option("dir", report_dir, "report folder (e.g. out/report)")->required();
  auto* compare_cmd = report_cmd->add_subcommand(
      "compare", "Show two runs side by side: fps, per-stage figures, config keys that differ");
  compare_cmd->add_option("dirs", compared, "two report folders: A B")->required()->expected(2);
  std::vector<std::string> merged;
  std::string merge_out;
  auto* merge_cmd = report_cmd->add_subcommand(
      "merge",
      "Join the batch reports of a sharded run (--shard) into one batch.json and batch.html");
  merge_cmd
      ->add_option("dirs", merged,
                   "shard report folders (each with a batch.json), or a folder holding "
                   "shard-K-of-N/ folders (e.g. out/report)")
      ->required();
  merge_cmd->add_option("-o,--output", merge_out,
                        "where to write the merged report (default: the folder holding the "
                        "shard folders)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : kConfigError;
  }

  framepipe::Registry registry;
  framepipe::stages::register_all(registry);
  if (*run_cmd) {
    framepipe::app::install_signal_handlers();
    // The commands turn what they expect into one-line errors; this is for what they do not
    // (e.g. the system refusing a thread), so that it too is one line and not an abort.
    try {
      return framepipe::app::run_command(registry, run);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return framepipe::app::kRunFailed;
    }
  }
  if (*tune_cmd) {
    framepipe::app::install_signal_handlers();
    try {
      tune.budget_s = framepipe::app::parse_seconds(tune_budget);
    } catch (const std::exception& e) {
      spdlog::error("--budget: {}", e.what());
      return kConfigError;
    }
    return framepipe::app::tune_command(registry, tune);
  }
  if (*validate_cmd) {
    return framepipe::app::validate_command(registry, validate_config, validate_overrides,
                                            effective);
  }
  if (*settings_cmd) return framepipe::app::settings_command(settings_as_markdown);
  if (*show_cmd) return framepipe::app::report_show_command(report_dir);
  if (*compare_cmd) return framepipe::app::report_compare_command(compared[0], compared[1]);
  if (*merge_cmd) return framepipe::app::report_merge_command(merged, merge_out);
  return framepipe::app::stages_command(registry, stage_type, markdown);
}
