// `framepipe tune`: measures the config on a sample, asks the throughput model for the settings
// it predicts fastest, measures them against the best so far, refits, and repeats.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/tune_report.h"
#include "pipeline/atomic_file.h"
#include "pipeline/json_text.h"
#include "pipeline/report.h"
#include "pipeline/report_folder.h"
#include "pipeline/safe_text.h"
#include "pipeline/threads.h"
#include "pipeline/tune.h"
#include "pipeline/tuned_config.h"

extern char** environ;

namespace framepipe::app {

namespace {

namespace fs = std::filesystem;

// The time a run spent opening and finishing its stages.
double fixed_time(const nlohmann::json& report) {
  const double wall_s = report.at("wall_s").get<double>();
  const double streaming_s = report.value("streaming_s", 0.0);
  return streaming_s > 0 ? wall_s - streaming_s : 0;
}

// A file's figures for the model, from its report.json; nullopt when no frame was modelled.
std::optional<MeasuredFile> measured_file(const nlohmann::json& report) {
  if (report.at("throughput_model").is_null()) return std::nullopt;
  return MeasuredFile{report.at("frames").get<double>(), report.at("wall_s").get<double>(),
                      model_input_from_json(report.at("throughput_model").at("input")),
                      fixed_time(report)};
}

std::string format_fps(double fps) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", fps);
  return text;
}

std::string format_percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.0f%%", share * 100);
  return text;
}

// Settings whose values are not counts (a speed-ladder rung), by key, as --set values.
using Extra = std::map<std::string, std::string>;

// A config to measure: the base config with these settings.
struct Candidate {
  Settings settings;
  Extra extra;
};

// A setting named with --allow: its gain is not the model's to predict (it changes the work, or
// it is a library's threading), so its values are measured one by one, in this order.
struct Exploration {
  std::string key;
  std::vector<std::string> values;
  std::size_t next = 0;
};

// One measured run of a candidate.
struct Trial {
  double fps = 0;
  fs::path dir;  // its report folder
};

class Tuner {
 public:
  Tuner(const Registry& registry, const TuneOptions& options, std::string config_text)
      : registry_(registry), options_(options), config_text_(std::move(config_text)) {}

  int run();

 private:
  std::vector<std::string> overrides_of(const Candidate& candidate) const {
    auto overrides = base_overrides_;
    for (const auto& [key, value] : candidate.settings)
      overrides.push_back(key + "=" + std::to_string(value));
    for (const auto& [key, value] : candidate.extra) overrides.push_back(key + "=" + value);
    return overrides;
  }
  Config config_with(const Candidate& candidate) const {
    return load_config_text(config_text_, options_.config_path, overrides_of(candidate), registry_);
  }
  // The --allow settings, with the values to try; false (after saying why) for one tune cannot
  // vary.
  bool plan_explorations(const Config& config);
  // The next value of an --allow setting to measure, from the best so far.
  std::optional<Candidate> next_exploration();
  // Measures `next` beside the best so far and keeps it when it wins; false when cancelled.
  bool try_candidate(int number, const Candidate& next, std::optional<double> predicted_fps,
                     double best_fps_then);

  // Runs the config with `candidate` as a child `framepipe run`, its report in runs/NN-label.
  std::optional<Trial> measure(const Candidate& candidate, const std::string& label);
  MeasuredRun measured_run(const fs::path& report_dir) const;
  bool over_budget(int runs_next) const {
    if (trials_ == 0) return false;
    const double per_run = seconds_since(start_) / trials_;
    return seconds_since(start_) + per_run * runs_next > options_.budget_s;
  }
  void say(const std::string& line) const {
    if (!options_.quiet) std::cerr << "tune: " << line << "\n" << std::flush;
  }
  int finish(const std::string& stopped);

  const Registry& registry_;
  const TuneOptions& options_;
  std::string config_text_;
  std::vector<std::string> base_overrides_;
  std::size_t files_ = 0;  // a batch's files (sampled); 0: a single input
  int cores_ = 1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int trials_ = 0;
  bool cancelled_ = false;
  std::string error_;

  Candidate baseline_;  // every knob at the config's value
  Candidate best_;
  std::vector<Exploration> explorations_;
  std::vector<double> baseline_runs_;
  std::vector<double> best_runs_;  // the best's latest interleaved runs
  fs::path baseline_dir_;
  fs::path best_dir_;
  std::map<std::string, std::string> gain_notes_;  // key -> what its step measured
  nlohmann::json steps_ = nlohmann::json::array();
};

std::optional<Trial> Tuner::measure(const Candidate& candidate, const std::string& label) {
  char number[16];
  std::snprintf(number, sizeof number, "%02d-", trials_);
  const fs::path dir = fs::path(options_.output) / "runs" / (number + label);
  const fs::path trial_output = fs::path(options_.output) / ".trial";
  fs::remove_all(dir);
  fs::remove_all(trial_output);
  fs::create_directories(dir);
  ++trials_;

  // Every value joined to its option, and the config after "--": a name starting with '-' is
  // never read as an option.
  std::vector<std::string> args = {"/proc/self/exe",
                                   "run",
                                   "--quiet",
                                   "--output=" + trial_output.string(),
                                   "--set=report.dir=" + dir.string(),
                                   "--set=report.formats=[json]",
                                   "--set=output.overwrite=true",
                                   "--set=pipeline.profile=true"};
  if (!options_.input.empty()) args.push_back("--input=" + options_.input);
  for (const auto& assignment : overrides_of(candidate)) args.push_back("--set=" + assignment);
  args.push_back("--");
  args.push_back(options_.config_path);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const auto log = (dir / "log.txt").string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    error_ = std::string("cannot start a measured run: ") + std::strerror(spawned);
    return std::nullopt;
  }
  int status = 0;
  bool signalled = false;
  auto cancelled_at = std::chrono::steady_clock::now();
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (cancel_requested().load() && !signalled) {
      cancelled_at = std::chrono::steady_clock::now();
      // Tune writes what it measured after the run stops: not the 5 s grace of a plain run.
      run_stopped();
      // The run keeps nothing at a final path when stopped; its partial report is not used.
      kill(pid, SIGINT);
      signalled = true;
    }
    if (signalled && seconds_since(cancelled_at) > 10) kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fs::remove_all(trial_output);
  if (cancel_requested().load()) {
    cancelled_ = true;
    return std::nullopt;
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != kOk) {
    std::ifstream in(log);
    std::string first_line;
    std::getline(in, first_line);
    error_ = "the run " + label + " failed (exit " + std::to_string(code) + "): " + first_line +
             " (log: " + log + ")";
    return std::nullopt;
  }
  try {
    return Trial{measured_run(dir).fps, dir};
  } catch (const std::exception& e) {
    error_ = "cannot read the report of " + dir.string() + ": " + e.what();
    return std::nullopt;
  }
}

MeasuredRun Tuner::measured_run(const fs::path& report_dir) const {
  const auto folder = open_report_folder(report_dir);
  MeasuredRun run;
  if (folder.kind == ReportKind::batch) {
    const auto& batch = folder.json;
    run.batch = true;
    run.fps = batch.at("totals").at("fps").get<double>();
    for (const auto& file : batch.at("files")) {
      if (file.at("frames").get<double>() <= 0 || !file.at("report").is_string()) continue;
      auto measured = measured_file(read_report(report_dir / file.at("report").get<std::string>()));
      if (!measured) continue;
      // Files running at once share the process: its CPU during one file's run is theirs too,
      // about files_in_parallel times the file's own.
      measured->model.cpu_s /= std::max(1.0, batch.value("files_in_parallel", 1.0));
      run.files.push_back(std::move(*measured));
    }
  } else {
    run.fps = folder.json.at("fps").get<double>();
    if (auto measured = measured_file(folder.json)) run.files.push_back(std::move(*measured));
  }
  if (run.files.empty() || run.fps <= 0) throw std::runtime_error("no frame was measured");
  return run;
}

// The settings that differ between two candidates, as {key, from, to}.
nlohmann::json changes_json(const Candidate& from, const Candidate& to) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& [key, value] : to.settings) {
    const auto before = from.settings.at(key);
    if (before != value) changes.push_back({{"key", key}, {"from", before}, {"to", value}});
  }
  for (const auto& [key, value] : to.extra) {
    const auto before = from.extra.at(key);
    if (before != value) changes.push_back({{"key", key}, {"from", before}, {"to", value}});
  }
  return changes;
}

// "stages.NAME.params.KEY": the stage and its parameter's spec; nulls when the key is not one.
std::pair<const StageConfig*, const ParamSpec*> stage_param(const Config& config,
                                                            const std::string& key) {
  for (const auto& stage : config.stages) {
    const auto prefix = "stages." + stage.name + ".params.";
    if (!key.starts_with(prefix) || !stage.info) continue;
    for (const auto& spec : stage.info->params) {
      if (spec.name == key.substr(prefix.size())) return {&stage, &spec};
    }
  }
  return {nullptr, nullptr};
}

bool Tuner::plan_explorations(const Config& config) {
  for (const auto& key : options_.allow) {
    const auto [stage, spec] = stage_param(config, key);
    const auto* value = stage ? stage->params.find(spec->name) : nullptr;
    Exploration exploration{key, {}};
    if (value && spec->role == ParamRole::speed_ladder && spec->ladder) {
      // The rungs faster than the value now, nearest first.
      const auto rungs = spec->ladder(stage->params);
      const auto at = std::find(rungs.begin(), rungs.end(), format_value(*value));
      for (auto rung = at; rung != rungs.begin() && at != rungs.end();) {
        --rung;
        exploration.values.push_back(*rung);
      }
    } else if (value && spec->role == ParamRole::helper_threads) {
      exploration.values = helper_thread_values(*spec, format_value(*value), cores_);
    } else {
      spdlog::error(
          "--allow {}: tune varies, besides what the model predicts, a stage's speed ladder "
          "(e.g. stages.NAME.params.preset of encode) or its library's helper threads (e.g. "
          "stages.NAME.params.threads of decode); this key is neither",
          key);
      return false;
    }
    baseline_.extra[key] = format_value(*value);
    explorations_.push_back(std::move(exploration));
  }
  return true;
}

std::optional<Candidate> Tuner::next_exploration() {
  for (auto& exploration : explorations_) {
    if (exploration.next >= exploration.values.size()) continue;
    Candidate next = best_;
    next.extra[exploration.key] = exploration.values[exploration.next++];
    return next;
  }
  return std::nullopt;
}

bool Tuner::try_candidate(int number, const Candidate& next, std::optional<double> predicted_fps,
                          double best_fps_then) {
  const auto changes = changes_json(best_, next);
  say("candidate " + std::to_string(number) + ": " + changes_text(changes) +
      (predicted_fps ? ", predicted " + format_fps(*predicted_fps) + " fps"
                     : std::string(", not predicted (--allow): measured")) +
      " (best so far " + format_fps(best_fps_then) + ")");
  // Interleaved: candidate, best, candidate, best... so that a drift of the machine's load falls
  // on both alike.
  std::vector<double> runs, best_runs;
  std::optional<Trial> last_candidate, last_best;
  const auto label = "c" + std::to_string(number);
  for (int r = 1; r <= options_.repeats; ++r) {
    last_candidate = measure(next, label + "-run" + std::to_string(r));
    if (!last_candidate) break;
    runs.push_back(last_candidate->fps);
    last_best = measure(best_, label + "-best" + std::to_string(r));
    if (!last_best) break;
    best_runs.push_back(last_best->fps);
    say("  run " + std::to_string(r) + "/" + std::to_string(options_.repeats) + ": " +
        format_fps(runs.back()) + " fps, the best beside it " + format_fps(best_runs.back()));
  }
  if (cancelled_) return false;
  nlohmann::json step = {
      {"step", number},
      {"changes", changes},
      {"predicted_fps", predicted_fps ? nlohmann::json(*predicted_fps) : nlohmann::json()},
      {"runs", runs},
      {"best_runs", best_runs}};
  if (best_runs.size() < static_cast<std::size_t>(options_.repeats)) {
    // A candidate that fails (or whose best fails beside it) is recorded and passed over.
    step["measured_fps"] = nullptr;
    step["kept"] = false;
    step["error"] = error_;
    steps_.push_back(step);
    say("  failed: " + error_);
    return true;
  }
  const double fps = median(runs);
  const double best_fps = median(best_runs);
  const auto [low, high] = std::minmax_element(runs.begin(), runs.end());
  // Kept only when every run of the candidate beat every run of the best beside it.
  const bool kept = *low > *std::max_element(best_runs.begin(), best_runs.end());
  step["measured_fps"] = fps;
  step["spread"] = fps > 0 ? (*high - *low) / fps : 0;
  step["best_fps"] = best_fps;
  if (predicted_fps) step["prediction_error"] = (*predicted_fps - fps) / fps;
  step["kept"] = kept;
  step["report"] = fs::relative(last_candidate->dir, options_.output).string();
  steps_.push_back(step);
  say("  measured " + format_fps(fps) + " fps (best beside it " + format_fps(best_fps) +
      "): " + (kept ? "kept, " + format_percent(fps / best_fps - 1) : std::string("not kept")));
  if (kept) {
    for (const auto& change : changes) {
      gain_notes_[change["key"]] = "measured " + format_fps(best_fps) + " -> " + format_fps(fps) +
                                   " fps (" + format_percent(fps / best_fps - 1) + ")";
    }
    best_ = next;
    best_runs_ = runs;
    best_dir_ = last_candidate->dir;
  } else {
    best_runs_ = best_runs;
    best_dir_ = last_best->dir;
  }
  return true;
}

int Tuner::run() {
  base_overrides_ = window_overrides(options_.run);
  Config config;
  try {
    config = config_with({});
  } catch (const ConfigError& error) {
    for (const auto& problem : error.problems()) spdlog::error("{}", problem);
    return kConfigError;
  }
  if (!options_.input.empty()) config.input_path = options_.input;
  std::error_code not_a_folder;
  if (fs::is_directory(config.input_path, not_a_folder)) {
    try {
      files_ = sample_inputs(find_inputs(config.input_path, config.input_selection),
                             static_cast<std::size_t>(config.sample_files))
                   .size();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return kConfigError;
    }
  }
  cores_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (const auto& knob : tunable_knobs(config, cores_, files_))
    baseline_.settings[knob.key] = knob.now;
  if (!plan_explorations(config)) return kConfigError;
  best_ = baseline_;

  say("measuring the config as it is");
  const auto baseline = measure(baseline_, "baseline");
  if (!baseline) {
    if (cancelled_) {
      spdlog::error("tune cancelled before the config was measured; nothing written");
      return kCancelled;
    }
    spdlog::error("{}", error_);
    return kRunFailed;
  }
  baseline_runs_ = best_runs_ = {baseline->fps};
  baseline_dir_ = best_dir_ = baseline->dir;
  steps_.push_back({{"step", 0},
                    {"changes", nlohmann::json::array()},
                    {"predicted_fps", nullptr},
                    {"measured_fps", baseline->fps},
                    {"runs", {baseline->fps}},
                    {"spread", 0.0},
                    {"kept", true},
                    {"report", fs::relative(baseline->dir, options_.output).string()}});
  say(format_fps(baseline->fps) + " fps measured");

  std::vector<Settings> measured = {baseline_.settings};
  std::string stopped = "no change is predicted to gain 5% or more";
  for (int number = 1; !cancelled_; ++number) {
    if (number > options_.max_candidates) {
      stopped = "the candidates allowed (--max-candidates) were measured";
      break;
    }
    // The model refitted to the best's latest run.
    const auto fitted = measured_run(best_dir_);
    const auto proposal =
        propose(fitted, tunable_knobs(config_with(best_), cores_, files_), measured);
    std::optional<Candidate> next;
    if (proposal) {
      next = best_;
      for (const auto& [key, value] : proposal->changes) next->settings[key] = value;
      measured.push_back(next->settings);
    } else {
      next = next_exploration();
      if (!next) break;
    }
    if (over_budget(2 * options_.repeats)) {
      stopped = "the time budget (--budget) would be spent";
      break;
    }
    if (!try_candidate(number, *next,
                       proposal ? std::optional<double>(proposal->predicted_fps) : std::nullopt,
                       fitted.fps))
      break;
  }
  if (!explorations_.empty() && stopped.starts_with("no change"))
    stopped += ", and every --allow value was measured";
  return finish(cancelled_ ? "cancelled" : stopped);
}

int Tuner::finish(const std::string& stopped) {
  const fs::path out = options_.output;
  // The tuned config: the original text with the kept changes.
  std::vector<SettingEdit> edits;
  for (const auto& change : changes_json(baseline_, best_)) {
    const std::string key = change["key"];
    edits.push_back({key, tune_value_text(change["to"]),
                     "framepipe tune: " + tune_value_text(change["from"]) + " -> " +
                         tune_value_text(change["to"]) + ", " + gain_notes_[key]});
  }
  std::string tuned_text = config_text_;
  try {
    if (!edits.empty())
      tuned_text = config_with_edits(config_text_, options_.config_path, edits, registry_);
  } catch (const std::exception& e) {
    spdlog::error("cannot write the tuned config: {}", e.what());
    return kRunFailed;
  }
  const double baseline_fps = median(baseline_runs_);
  const double best_fps = median(best_runs_);
  std::vector<double> errors;
  int candidates = 0;
  for (const auto& step : steps_) {
    if (step["step"].get<int>() > 0) ++candidates;
    if (step.contains("prediction_error"))
      errors.push_back(std::abs(step["prediction_error"].get<double>()));
  }
  const nlohmann::json tune = {{"schema", "framepipe-tune/1"},
                               {"config", options_.config_path},
                               {"input", options_.input},
                               {"sample", base_overrides_},
                               {"cores", cores_},
                               {"files", files_},
                               {"baseline_fps", baseline_fps},
                               {"best_fps", best_fps},
                               {"speedup", baseline_fps > 0 ? best_fps / baseline_fps : 0},
                               {"changes", changes_json(baseline_, best_)},
                               {"measured_candidates", candidates},
                               {"median_prediction_error",
                                errors.empty() ? nlohmann::json() : nlohmann::json(median(errors))},
                               {"stopped", stopped},
                               {"cancelled", cancelled_},
                               {"wall_s", seconds_since(start_)},
                               {"baseline_report", "baseline"},
                               {"best_report", "best"},
                               {"steps", steps_}};
  try {
    fs::create_directories(out);
    for (const auto& [name, from] :
         {std::pair{"baseline", baseline_dir_}, std::pair{"best", best_dir_}}) {
      fs::remove_all(out / name);
      fs::copy(from, out / name, fs::copy_options::recursive);
    }
    write_file_atomically(out / "tuned.yaml", tuned_text);
    write_file_atomically(out / "tune.json", dump_json(tune, 2) + "\n");
    write_file_atomically(out / "tune.html", tune_html(tune));
  } catch (const std::exception& e) {
    spdlog::error("{}: cannot write the tune results: {}", out.string(), e.what());
    return kRunFailed;
  }
  std::cout << tune_summary(tune);
  std::cout << "tuned config: " << safe_line((out / "tuned.yaml").string()) << "\n"
            << "report: " << safe_line((out / "tune.html").string()) << "\n";
  return cancelled_ ? kCancelled : kOk;
}

}  // namespace

int tune_command(const Registry& registry, const TuneOptions& options) {
  // The folder is tune's own: an earlier tune's results are replaced, anything else is kept.
  std::error_code error;
  if (fs::exists(options.output, error) &&
      (!fs::is_directory(options.output, error) ||
       (!fs::is_empty(options.output, error) &&
        !fs::exists(fs::path(options.output) / "tune.json")))) {
    spdlog::error(
        "{}: exists and holds no earlier tune (tune.json): give tune a new or empty "
        "folder with --output",
        options.output);
    return kConfigError;
  }
  try {
    // Read as `run` reads it: a missing file, or a video given as the config, is named as such.
    load_config_file(options.config_path, window_overrides(options.run), registry);
    std::ifstream in(options.config_path);
    std::stringstream text;
    text << in.rdbuf();
    return Tuner(registry, options, text.str()).run();
  } catch (const ConfigError& problems) {
    for (const auto& problem : problems.problems()) spdlog::error("{}", problem);
    return kConfigError;
  } catch (const std::invalid_argument& bad_option) {
    spdlog::error("{}", bad_option.what());
    return kConfigError;
  } catch (const std::exception& failure) {
    spdlog::error("tune: {}", failure.what());
    return kRunFailed;
  }
}

}  // namespace framepipe::app
