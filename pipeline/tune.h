#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/throughput_model.h"

namespace framepipe {

// What `framepipe tune` may change by itself: settings that change how fast the pipeline runs,
// never what it writes, and whose effect the throughput model predicts.
struct Knob {
  enum class Effect {
    stage_workers,      // a stage's concurrency: its workers
    stage_in_flight,    // a stage's in-flight parameter: its workers, in proportion
    threads,            // pipeline.threads: the arena, and the unlimited stages in it
    frames_in_flight,   // pipeline.max_frames_in_flight
    files_in_parallel,  // pipeline.files_in_parallel (a batch)
  };
  std::string key;  // as --set takes it: "stages.people.concurrency"
  Effect effect = Effect::stage_workers;
  std::size_t stage = 0;  // for the stage effects: its index in the config
  std::int64_t now = 0;
  std::vector<std::int64_t> values;  // what may be tried, ascending, `now` among them
  // For pipeline.threads: the stages of unlimited concurrency, whose workers are the threads.
  std::vector<std::size_t> unlimited_stages{};
};

// The knobs of a validated config on a machine of `cores` cores; files_in_parallel only for a
// batch of `files` files (0: a single input).
std::vector<Knob> tunable_knobs(const Config& config, int cores, std::size_t files);

// One measured run as the model sees it: a file's frames, its wall time, and the model fitted
// to its report (report.json's throughput_model.input).
struct MeasuredFile {
  double frames = 0;
  double wall_s = 0;
  ModelInput model;
  // Of wall_s, what opening and finishing the stages took (report.json's wall_s − streaming_s):
  // no setting of the graph changes it.
  double fixed_s = 0;
};

// A measured run of the config: a single input, or a batch's files with files_in_parallel.
struct MeasuredRun {
  std::vector<MeasuredFile> files;
  double fps = 0;  // frames / wall of the whole run (a batch: all its files)
  bool batch = false;
};

// Settings by key, as --set values: {"stages.people.concurrency", 2}.
using Settings = std::map<std::string, std::int64_t>;

// The fps the model predicts for `run` with `changes` applied to `knobs` (whose `now` are the
// measured run's values). Each file's streaming time is scaled by its model's bound now over its
// bound after; its fixed time stays. A single input: its frames over that wall. A batch: its
// files one at a time times files_in_parallel, capped by what the files share — the oneTBB
// threads, the cores and the frames-in-flight budget — and scaled to the batch's measured fps.
double predict_fps(const MeasuredRun& run, const std::vector<Knob>& knobs, const Settings& changes);

struct Proposal {
  Settings changes;  // only keys whose value differs from the knob's `now`
  double predicted_fps = 0;
};

// The settings the model predicts fastest, found by climbing one knob at a time (the best
// single change, then the best from there, up to `max_changes`), then moving each changed knob
// back towards its value now for as long as the prediction stays within 1% of the best: the
// smallest change that reaches the gain. Settings in `measured` (as changes from now) are
// skipped. nullopt when no change is predicted to gain kMinPredictedGain (analysis.h).
std::optional<Proposal> propose(const MeasuredRun& run, const std::vector<Knob>& knobs,
                                const std::vector<Settings>& measured, int max_changes = 3);

// The median of `values` (the mean of the middle two for an even count); 0 when empty.
double median(std::vector<double> values);

// The values `tune --allow` tries for a helper-threads parameter (`spec`, now at `now`): every
// core, half of them, one; not the value it has, nor the core count when its 0 already means
// one thread per core.
std::vector<std::string> helper_thread_values(const ParamSpec& spec, const std::string& now,
                                              int cores);

}  // namespace framepipe
