#include "app/commands.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "app/progress.h"
#include "pipeline/analysis.h"
#include "pipeline/atomic_file.h"
#include "pipeline/batch.h"
#include "pipeline/batch_merge.h"
#include "pipeline/config.h"
#include "pipeline/json_text.h"
#include "pipeline/output_names.h"
#include "pipeline/report.h"
#include "pipeline/report_dir.h"
#include "pipeline/report_folder.h"
#include "pipeline/run.h"
#include "pipeline/safe_text.h"
#include "pipeline/settings.h"
#include "pipeline/suggest.h"
#include "pipeline/summary.h"

namespace framepipe::app {

namespace {

std::atomic<bool> cancel_flag{false};

// How long a cancelled run may take to stop before the process leaves anyway: a worker can be
// stuck in a system call nothing interrupts (a read from a hung network filesystem, a FIFO
// swapped in after the check).
constexpr unsigned kStopGraceSeconds = 5;

extern "C" void on_stop_signal(int) {
  // A second signal means "now": leave at once. Partial outputs are hidden temporary files, so
  // nothing half-written sits at a final path even then.
  if (cancel_flag.exchange(true)) _exit(kCancelled);
  alarm(kStopGraceSeconds);
}

extern "C" void on_stop_grace_over(int) {
  static constexpr char kMessage[] =
      "framepipe: not stopped 5 s after the signal; leaving now (hidden temporary files may "
      "remain, no report was written)\n";
  static_assert(kStopGraceSeconds == 5, "the message says 5 s");
  [[maybe_unused]] const auto written = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  _exit(kCancelled);
}

void print_config_error(const ConfigError& error) {
  for (const auto& problem : error.problems()) spdlog::error("{}", problem);
}

// Settings that cannot take effect here: said before anything runs, even with --quiet, since
// the run will not be what the config asks for.
void print_config_warnings(const Config& config) {
  for (const auto& warning : config.warnings) spdlog::warn("{}", warning);
}

// False (after printing every problem) when the inputs' outputs would collide with each other or
// replace an input: nothing runs then.
bool outputs_are_apart(const Config& config, const std::vector<BatchInput>& inputs, bool batch,
                       const std::optional<std::filesystem::path>& scanned_folder = std::nullopt) {
  const auto problems = check_output_paths(config, inputs, batch, scanned_folder);
  for (const auto& problem : problems) spdlog::error("{}", problem);
  return problems.empty();
}

std::string describe_params(const ParamSpec& spec) {
  return std::string(to_string(spec.type)) + ", default " +
         (format_value(spec.default_value).empty() ? "\"\"" : format_value(spec.default_value)) +
         ", " + spec.expectation();
}

// What a single run prints and writes once it ended. A cancelled or failed run that got past
// its first frame still prints its summary and writes the report of what ran, marked with its
// status, so that the profile of a long run is not lost; its outputs are gone all the same.
int finish_single_run(const Config& config, const RunOptions& options, const RunResult& result) {
  if (result.cancelled) {
    spdlog::error("{}: cancelled; its outputs were removed", config.input_path);
  } else if (!result.ok()) {
    spdlog::error("{}", result.error->to_string());
  } else if (result.damaged()) {
    // Even with --quiet: the outputs are complete, but the input was not.
    spdlog::warn("{}: damaged: {}; the report says status \"damaged\"", config.input_path,
                 result.damage_summary());
  }
  const int code = result.cancelled ? kCancelled : result.ok() ? kOk : kRunFailed;
  if (!result.has_report()) return code;
  const auto report = build_report(config, result, analyze(config, result));
  if (!options.quiet) std::cout << format_summary(report);
  for (const auto& output : result.outputs)
    std::cout << "output: " << safe_line(output.string()) << "\n";
  if (!config.profile) return code;
  const auto report_dir = config.report_dir.empty()
                              ? std::filesystem::path(config.output_dir) / "report"
                              : std::filesystem::path(config.report_dir);
  try {
    for (const auto& path : write_report(report_dir, config.report_formats, report, result)) {
      std::cout << "report: " << safe_line(path.string()) << "\n";
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: cannot write the report: {}", report_dir.string(), e.what());
    return code == kOk ? kRunFailed : code;
  }
  return code;
}

}  // namespace

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  struct sigaction grace {};
  grace.sa_handler = on_stop_grace_over;
  sigemptyset(&grace.sa_mask);
  sigaction(SIGALRM, &grace, nullptr);
  // Past RLIMIT_FSIZE a write raises SIGXFSZ, which kills the process by default; ignored, the
  // write fails with EFBIG instead, and only the file being written fails, with a message.
  signal(SIGXFSZ, SIG_IGN);
}

const std::atomic<bool>& cancel_requested() { return cancel_flag; }

double parse_seconds(const std::string& text) {
  double seconds = 0;
  std::size_t at = 0;
  int fields = 0;
  for (;;) {
    std::size_t used = 0;
    double field = 0;
    const auto rest = text.substr(at);
    if (rest.empty() || !(std::isdigit(static_cast<unsigned char>(rest[0])) || rest[0] == '.'))
      throw std::invalid_argument("'" + text + "' is not a time: give seconds or [[hh:]mm:]ss");
    field = std::stod(rest, &used);
    seconds = seconds * 60 + field;
    at += used;
    if (++fields > 3 || (at < text.size() && text[at] != ':') ||
        (at < text.size() && field != std::floor(field)))
      throw std::invalid_argument("'" + text + "' is not a time: give seconds or [[hh:]mm:]ss");
    if (at == text.size()) break;
    ++at;
  }
  if (!std::isfinite(seconds))
    throw std::invalid_argument("'" + text + "' is not a time: give seconds or [[hh:]mm:]ss");
  return seconds;
}

std::vector<std::string> window_overrides(const RunOptions& options) {
  auto overrides = options.overrides;
  auto time = [](const char* option, const std::string& text) {
    try {
      char value[64];
      std::snprintf(value, sizeof value, "%.17g", parse_seconds(text));
      return std::string(value);
    } catch (const std::exception& e) {
      throw std::invalid_argument(std::string(option) + ": " + e.what());
    }
  };
  if (!options.start.empty()) overrides.push_back("input.start=" + time("--start", options.start));
  if (!options.duration.empty())
    overrides.push_back("input.duration=" + time("--duration", options.duration));
  if (options.frames > 0) overrides.push_back("input.frames=" + std::to_string(options.frames));
  if (options.sample_files > 0)
    overrides.push_back("input.sample_files=" + std::to_string(options.sample_files));
  return overrides;
}

void run_stopped() { alarm(0); }

int run_command(const Registry& registry, const RunOptions& given) {
  RunOptions options = given;
  Config config;
  try {
    config = load_config_file(options.config_path, window_overrides(options), registry);
  } catch (const std::invalid_argument& error) {
    spdlog::error("{}", error.what());
    return kConfigError;
  } catch (const ConfigError& error) {
    print_config_error(error);
    return kConfigError;
  }
  print_config_warnings(config);
  if (!options.input.empty()) config.input_path = options.input;
  if (!options.output.empty()) config.output_dir = options.output;
  if (!options.report_dir.empty()) {
    if (const auto wrong = report_dir_problem(options.report_dir); !wrong.empty()) {
      spdlog::error("--report-dir '{}' has {}", options.report_dir, wrong);
      return kConfigError;
    }
    config.report_dir = options.report_dir;
  }
  if (config.report_dir.find(kRunPlaceholder) != std::string::npos) {
    if ((!options.shard.empty() && options.shard != "off") || options.mpi) {
      spdlog::error(
          "report folder '{}': {{run}} is each process's own start time, so the {} would not "
          "write one report; give a fixed folder",
          config.report_dir, options.mpi ? "--mpi ranks" : "shards");
      return kConfigError;
    }
    config.report_dir = expand_report_dir(config.report_dir, std::time(nullptr)).string();
  }
  if (!options.progress.empty() && options.mpi) {
    spdlog::error("--progress: not available with --mpi");
    return kConfigError;
  }
  // Opened before anything runs, so a path that cannot be written is a usage error.
  auto progress_stream = options.progress.empty() ? std::optional<ProgressStream>()
                                                  : ProgressStream::open(options.progress);
  if (!options.progress.empty()) {
    if (!progress_stream) return kConfigError;
    options.progress_stream = &*progress_stream;
  }
  if (is_standard_input(config.input_path)) {
    const bool sharded = !options.shard.empty() && options.shard != "off";
    const char* batch_option = !options.input_list.empty() ? "--input-list"
                               : options.resume            ? "--resume"
                               : options.mpi               ? "--mpi"
                               : sharded                   ? "--shard"
                                                           : nullptr;
    if (batch_option) {
      spdlog::error("{}: standard input is one input, read once; {} needs files", config.input_path,
                    batch_option);
      return kConfigError;
    }
  }
  if (!options.input_list.empty()) {
    std::ifstream file;
    if (options.input_list != "-") {
      file.open(options.input_list);
      if (!file) {
        spdlog::error("cannot read input list '{}': {}", options.input_list, std::strerror(errno));
        return kConfigError;
      }
    }
    std::istream& list = options.input_list == "-" ? std::cin : file;
    const auto base = options.input_list == "-"
                          ? std::filesystem::current_path()
                          : std::filesystem::path(options.input_list).parent_path();
    auto inputs = read_input_list(list, base);
    if (!outputs_are_apart(config, inputs, true)) return kConfigError;
    return run_batch_command(config, std::move(inputs), options);
  }
  if (config.input_path.empty()) {
    spdlog::error("{}: no input: set input.path in the config or pass --input FILE|FOLDER",
                  options.config_path);
    return kConfigError;
  }
  // The error_code form: a path whose status cannot be read (a symlink loop) is not a folder,
  // and the run names it with the reason.
  std::error_code not_a_folder;
  if (std::filesystem::is_directory(config.input_path, not_a_folder)) {
    std::vector<BatchInput> inputs;
    try {
      inputs = find_inputs(config.input_path, config.input_selection);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return kConfigError;
    }
    if (inputs.empty()) {
      spdlog::error("{}: no files match input.include in this folder", config.input_path);
      return kConfigError;
    }
    if (!outputs_are_apart(config, inputs, true, config.input_path)) return kConfigError;
    return run_batch_command(config, std::move(inputs), options);
  }

  if ((!options.shard.empty() && options.shard != "off") || options.mpi) {
    spdlog::error("{}: {} splits a batch: pass a folder or --input-list", config.input_path,
                  options.mpi ? "--mpi" : "--shard");
    return kConfigError;
  }
  const BatchInput single{config.input_path, std::filesystem::path(config.input_path).filename()};
  if (!outputs_are_apart(config, {single}, false)) return kConfigError;
  RunProgress live;
  RunResult result;
  {
    ProgressDisplay display(ProgressMeter(live), options.quiet, options.progress_stream);
    result = run_pipeline(config, {nullptr, nullptr, &cancel_requested(), &live});
    run_stopped();
    display.finish(result.status());
  }
  return finish_single_run(config, options, result);
}

int report_show_command(const std::string& dir) {
  try {
    std::cout << format_report_folder(open_report_folder(dir));
    return kOk;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kRunFailed;
  }
}

int report_compare_command(const std::string& a, const std::string& b) {
  try {
    const auto first = comparable_report(open_report_folder(a));
    const auto second = comparable_report(open_report_folder(b));
    std::cout << "A: " << a << "\nB: " << b << "\n" << format_comparison(first, second);
    return kOk;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kRunFailed;
  }
}

int report_merge_command(const std::vector<std::string>& dirs, const std::string& out) {
  try {
    const auto reports =
        find_batch_reports(std::vector<std::filesystem::path>(dirs.begin(), dirs.end()));
    // By default the merged report goes where the shard folders are.
    const std::filesystem::path first = dirs.front();
    const bool holds_shards = std::filesystem::equivalent(reports.front().parent_path(), first);
    const auto out_dir = !out.empty()   ? std::filesystem::path(out)
                         : holds_shards ? first
                                        : first.parent_path();
    const auto batch = merge_batch_reports(reports, out_dir);
    std::filesystem::create_directories(out_dir);
    write_file_atomically(out_dir / "batch.json", dump_json(batch, 2) + "\n");
    write_file_atomically(out_dir / "batch.html", batch_report_html(batch));
    const auto& totals = batch["totals"];
    std::printf(
        "merged %zu shards: %d files: %d ok, %d damaged, %d failed, %d skipped, %d cancelled; "
        "%lld frames; slowest shard %s (%.2f s)\nreport: %s\n",
        reports.size(), totals["files"].get<int>(), totals["ok"].get<int>(),
        totals["damaged"].get<int>(), totals["failed"].get<int>(), totals["skipped"].get<int>(),
        totals["cancelled"].get<int>(), totals["frames"].get<long long>(),
        batch["slowest_shard"].get<std::string>().c_str(), totals["wall_s"].get<double>(),
        (out_dir / "batch.html").c_str());
    return kOk;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kRunFailed;
  }
}

int validate_command(const Registry& registry, const std::string& config_path,
                     const std::vector<std::string>& overrides, bool effective) {
  try {
    const auto config = load_config_file(config_path, overrides, registry);
    print_config_warnings(config);
    if (effective) {
      std::cout << effective_yaml(config);
    } else {
      std::string chain;
      for (const auto& stage : config.stages) {
        chain += (chain.empty() ? "" : ", ") + stage.name + " (" + stage.type + ")";
      }
      std::cout << config_path << ": ok: " << chain << "\n";
    }
    return kOk;
  } catch (const ConfigError& error) {
    print_config_error(error);
    return kConfigError;
  }
}

int stages_command(const Registry& registry, const std::string& type, bool markdown) {
  if (!type.empty() && !registry.find(type)) {
    spdlog::error("unknown stage type '{}'{}", type, did_you_mean(type, registry.types()));
    return kConfigError;
  }
  if (markdown) {
    std::cout << "# Stage reference\n\nGenerated by `framepipe stages --markdown`; do not edit.\n";
  }
  for (const auto* info : registry.all()) {
    if (!type.empty() && info->type != type) continue;
    const auto traits = std::string(to_string(info->kind)) + ", " + to_string(info->resource) +
                        ", " + to_string(info->ordering);
    if (markdown) {
      std::cout << "\n## " << info->type << "\n\n"
                << info->summary << "\n\n*" << traits << "*\n\n```yaml\n"
                << info->example << "\n```\n";
      if (!info->params.empty()) {
        std::cout << "\n| parameter | type | default | allowed | help |\n|---|---|---|---|---|\n";
        for (const auto& p : info->params) {
          std::cout << "| `" << p.name << "` | " << to_string(p.type) << " | `"
                    << format_value(p.default_value) << "` | " << p.expectation() << " | " << p.help
                    << " |\n";
        }
      }
      continue;
    }
    std::cout << info->type << "  (" << traits << ")\n    " << info->summary << "\n";
    for (const auto& p : info->params) {
      std::cout << "    " << p.name << ": " << p.help << " [" << describe_params(p) << "]\n";
    }
    std::cout << "    example: " << info->example << "\n";
  }
  return kOk;
}

int settings_command(bool markdown) {
  std::cout << (markdown ? settings_markdown() : settings_text());
  return kOk;
}

}  // namespace framepipe::app
