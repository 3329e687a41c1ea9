#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/run.h"
#include "pipeline/throughput_model.h"

namespace framepipe {

// Thresholds on (cpu + runnable) / busy (CPU time, counting threads the stage started, plus
// time its threads waited for a core, over wall time inside the stage) that name a stage's
// class; documented in docs/report.md. Waiting for a core is CPU-bound work that found the
// cores taken, so only sleeping (IO, locks, page faults) counts against CPU.
inline constexpr double kCpuBoundRatio = 0.7;  // at least: cpu-bound
inline constexpr double kIoBoundRatio = 0.3;   // at most: io-bound; between: mixed
// A stage busy less than this over the whole run, or less than kIdleRunShare of the run, is
// `idle`: too little time to name a class from.
inline constexpr double kIdleBusySeconds = 0.001;
inline constexpr double kIdleRunShare = 0.01;
// Advice is given only for a change the throughput model predicts gains at least this much.
inline constexpr double kMinPredictedGain = 0.05;
// Other processes taking at least this share of the cores is said in the conclusions.
inline constexpr double kOtherCpuNoticeable = 0.1;

struct Percentiles {
  double p50_ms = 0;
  double p95_ms = 0;
  double max_ms = 0;
};
// p50 and p95 within DurationHistogram::kMaxRelativeError, max exact.
Percentiles percentiles(const DurationHistogram& samples_ns);

// runnable_s: time of busy_s its threads waited for a core. run_wall_s: the run's wall time,
// for the idle threshold (0: none).
std::string classify(double busy_s, double cpu_s, double runnable_s, double run_wall_s = 0);

// What the stage the analysis names is called under the model's limit `limited_by`: the
// "bottleneck" only when a stage limits; under another limit (the cores) the "busiest stage".
const char* bottleneck_word(const std::string& limited_by);

struct PhaseFigures {
  std::string name;
  double wall_s = 0;
  double cpu_s = 0;
  double off_cpu_s = 0;  // runnable_s + sleeping_s
  double runnable_s = 0;
  double sleeping_s = 0;
  std::string cls;
};

// A stage's figures as DESIGN.md defines them.
struct StageFigures {
  int workers = 1;  // concurrency, with `unlimited` counted as the arena's threads
  double busy_s = 0;
  double cpu_s = 0;  // own calls' CPU plus the CPU of threads the stage started
  double helper_cpu_s = 0;
  double off_cpu_s = 0;   // busy less cpu: runnable_s + sleeping_s
  double runnable_s = 0;  // ready to run, waiting for a core (its threads and its helpers)
  double sleeping_s = 0;  // blocked in IO, locks, page faults
  // Its workers' idle time, split: no frame to work on (starved), or a frame queued while a
  // worker was free, waiting for a thread to run it.
  double starved_s = 0;
  double waiting_for_thread_s = 0;
  double blocked_s = 0;
  double utilization = 0;  // busy / (wall × workers)
  std::string cls;
  Percentiles latency;
  std::vector<PhaseFigures> phases;
};

struct Advice {
  std::string stage;
  std::string key;
  std::string from;
  std::string to;
  std::string reason;
  double predicted_fps = 0;     // the throughput model's, scaled to the measured fps
  double predicted_wall_s = 0;  // the same run's frames at that rate
};

// What the run's machine did beside the process.
struct MachineFigures {
  bool measured = false;  // /proc/stat was readable
  int cores = 1;
  double busy_share = 0;       // every process's CPU / (wall × cores)
  double process_share = 0;    // this process's
  double other_cpu_share = 0;  // other processes'
};

// The throughput model as fitted to this run (pipeline/throughput_model.h).
struct ModelFigures {
  double measured_fps = 0;
  double bound_fps = 0;  // the tightest bound
  std::string limit;     // its kind: stage, threads, cores, frames_in_flight
  std::string limit_stage;
  struct NamedBound {
    std::string what;  // "stage <name>", "threads", "cores", "frames_in_flight"
    double fps = 0;
  };
  std::vector<NamedBound> bounds;
  ModelInput input;  // what the bounds were computed from
};

struct RunAnalysis {
  std::vector<StageFigures> stages;
  // The stage the model finds limiting, or else the busiest stage.
  std::optional<std::size_t> bottleneck;
  // The model's tightest bound: "stage" (the bottleneck), "threads" (pipeline.threads),
  // "cores", "frames_in_flight", or "" (nothing measured).
  std::string limited_by;
  MachineFigures machine;
  std::optional<ModelFigures> model;
  double cpu_bound_s = 0;
  double io_bound_s = 0;
  double mixed_s = 0;
  double process_utilization = 0;  // process CPU / (wall × cores)
  double threads_utilization = 0;  // the oneTBB threads' time in stage calls / (wall × threads)
  double stage_threads_cpu_s = 0;
  double helper_threads_cpu_s = 0;
  // Of the process's CPU, what the threads that made stage calls used outside them (oneTBB
  // workers spinning while idle): not work a frame needs, so the model leaves it out.
  double idle_threads_cpu_s = 0;
  Percentiles latency;  // end to end
  std::vector<Advice> advice;
  std::vector<std::string> conclusions;
};

// Derives each stage's class, the bottleneck, the IO/CPU split and advice naming a config key,
// each with the figures behind it and the fps the throughput model predicts for it.
RunAnalysis analyze(const Config& config, const RunResult& result);

}  // namespace framepipe
