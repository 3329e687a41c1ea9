#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/run.h"

namespace framepipe {

// Thresholds on cpu / busy (CPU time, counting threads the stage started, over wall time
// inside the stage) that name a stage's class; documented in docs/report.md.
inline constexpr double kCpuBoundRatio = 0.7;  // at least: cpu-bound
inline constexpr double kIoBoundRatio = 0.3;   // at most: io-bound; between: mixed
// A stage busy less than this over the whole run is `idle`.
inline constexpr double kIdleBusySeconds = 0.001;
// The process using at least this share of the cores while no stage is busy at least
// kStageSaturated of its workers' time: the stages take turns on the cores, so the cores, not
// one stage, limit the run.
inline constexpr double kCoresSaturated = 0.9;
inline constexpr double kStageSaturated = 0.9;
// The oneTBB threads spending at least this share of the run in stage calls while there are
// fewer of them than cores (and no stage is saturated): pipeline.threads limits the run.
inline constexpr double kThreadsSaturated = 0.9;

struct Percentiles {
  double p50_ms = 0;
  double p95_ms = 0;
  double max_ms = 0;
};
Percentiles percentiles(std::vector<std::int64_t> samples_ns);

std::string classify(double busy_s, double cpu_s);

struct PhaseFigures {
  std::string name;
  double wall_s = 0;
  double cpu_s = 0;
  double off_cpu_s = 0;
  std::string cls;
};

// A stage's figures as DESIGN.md defines them.
struct StageFigures {
  int workers = 1;  // concurrency, with `unlimited` counted as the arena's threads
  double busy_s = 0;
  double cpu_s = 0;  // own calls' CPU plus the CPU of threads the stage started
  double helper_cpu_s = 0;
  double off_cpu_s = 0;
  double starved_s = 0;
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
};

struct RunAnalysis {
  std::vector<StageFigures> stages;
  std::optional<std::size_t> bottleneck;  // the busiest stage
  // "stage" (the bottleneck), "threads" (pipeline.threads), "cores", or "" (no busy stage)
  std::string limited_by;
  double cpu_bound_s = 0;
  double io_bound_s = 0;
  double mixed_s = 0;
  double process_utilization = 0;  // process CPU / (wall × cores)
  double threads_utilization = 0;  // the oneTBB threads' time in stage calls / (wall × threads)
  double stage_threads_cpu_s = 0;
  double helper_threads_cpu_s = 0;
  Percentiles latency;  // end to end
  std::vector<Advice> advice;
  std::vector<std::string> conclusions;
};

// Derives each stage's class, the bottleneck, the IO/CPU split and advice naming a config key,
// each with the figures behind it.
RunAnalysis analyze(const Config& config, const RunResult& result);

}  // namespace framepipe
