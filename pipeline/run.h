#pragma once

#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/flight_budget.h"
#include "pipeline/observer.h"
#include "pipeline/profiler.h"
#include "pipeline/run_error.h"

namespace framepipe {

// What one stage did over a run: the raw measurements a report writer starts from.
struct StageRunStats {
  std::string name;
  std::string type;
  StageKind kind = StageKind::transform;
  ResourceClass resource = ResourceClass::cpu;
  Ordering ordering = Ordering::parallel;
  Concurrency concurrency;
  std::int64_t items = 0;  // frames handled (the source: produced); counted always
  // The rest is the profiler's, zero when profiling is off (pipeline.profile: false).
  std::int64_t busy_ns = 0;                // wall time inside the stage, summed over invocations
  std::int64_t cpu_ns = 0;                 // CPU time of the calling threads inside the stage
  std::int64_t helper_cpu_ns = 0;          // CPU time of threads the stage started (libav, x264)
  std::int64_t runnable_ns = 0;            // of busy_ns, the calling threads waiting for a core
  std::int64_t helper_runnable_ns = 0;     // the started threads' time waiting for a core
  std::int64_t waiting_for_thread_ns = 0;  // free workers with a frame queued (sampled)
  std::int64_t blocked_ns = 0;       // waiting to hand frames on (the source, for a free slot)
  std::string input;                 // the stage it consumes; empty for the source
  std::string helper_threads_phase;  // the phase helper_cpu_ns belongs to, if any
  std::vector<PhaseTotals> phases;
  // The invocation records the profiler kept (StageMetrics::invocations()) of
  // invocations_total recorded.
  std::vector<Invocation> invocations;
  std::int64_t invocations_total = 0;
  DurationHistogram frame_call_times;  // StageMetrics::frame_call_times()
};

struct RunResult {
  std::string input_path;
  std::optional<RunError> error;
  double wall_s = 0;
  // Of wall_s, the time frames flowed through the graph; the rest opened and finished the stages
  // (loading models, opening files and encoders), which no setting of the graph shortens.
  double streaming_s = 0;
  std::int64_t frames = 0;  // frames the source produced
  int arena_threads = 0;
  std::int64_t arena_busy_ns = 0;  // wall time the arena's threads spent in cpu stages' calls
                                   // (profiled runs only)
  int cores = 1;
  bool profiled = true;
  std::int64_t process_cpu_ns = 0;  // CPU the whole process used during the run
  // CPU every process used on this process's cores during the run (/proc/stat); nullopt when
  // the system does not say.
  std::optional<std::int64_t> machine_busy_ns;
  bool runnable_measured = false;  // the kernel keeps run delays (/proc/<tid>/schedstat)
  // CPU the threads that made the run's calls used outside them (oneTBB workers spinning while
  // idle, the engine's own work); nullopt when not measured: unprofiled, or a batch's run,
  // whose threads serve other files' runs too.
  std::optional<std::int64_t> threads_idle_cpu_ns;
  // Between two samples kept: the sampler's interval times sample_stride.
  std::int64_t sample_interval_ns = 0;
  // The run over time, at most kSamplesKept + 1; empty when not profiled. A run that took more
  // (samples_taken) kept every sample_stride-th and the last.
  std::vector<Sample> samples;
  std::int64_t sample_stride = 1;
  std::int64_t samples_taken = 0;
  DurationHistogram latencies_ns;  // per finished frame, slot taken to last copy gone
  int flight_capacity = 0;
  int flight_peak = 0;
  std::vector<StageRunStats> stages;
  std::vector<std::filesystem::path> outputs;  // files committed by the sinks
  std::map<int, std::string> thread_names;
  int main_thread = 0;  // thread_number() of the thread that opened and finished the stages

  bool cancelled = false;                                         // the error is the cancellation
  std::map<std::string, std::map<std::string, double>> counters;  // stage -> its counters()

  bool ok() const { return !error.has_value(); }
  // A counter summed over the stages that count it ("damaged_packets"); 0 when none does.
  std::int64_t counter(const std::string& name) const;
  // A run that finished although its input was damaged: decode skipped damaged packets, or
  // gave fewer frames than the container announced (a truncated file).
  bool damaged() const;
  // Whether a report would say anything: the run finished, or it stopped (cancelled, failed)
  // after its first frame. A run that failed opening or at frame 0 has only its error line.
  bool has_report() const;
  // "ok", "damaged", "failed" or "cancelled": what report.json and batch.json call the run.
  std::string status() const;
  // One line saying what was damaged: "3 damaged packets skipped, 158 of 200 frames decoded".
  std::string damage_summary() const;
  double fps() const { return wall_s > 0 ? static_cast<double>(frames) / wall_s : 0.0; }
};

// A run's live figures, for progress displays: written by the run, read from any thread.
struct RunProgress {
  std::atomic<std::int64_t> frames{0};  // frames that have left the pipeline (when done: frames)
  // From the source's counters once it is open (counter::expected_frames, counter::frame_rate);
  // 0 when it does not say.
  std::atomic<std::int64_t> expected_frames{0};
  std::atomic<double> frame_rate{0};
};

// What runs share when a batch processes several files at once. Every field may be left
// empty: a run then makes its own arena and budget from its config.
struct RunEnvironment {
  oneapi::tbb::task_arena* arena = nullptr;
  FlightBudget* budget = nullptr;
  // Set from outside (SIGINT): the run stops reading frames and fails as cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Where the run counts its frames as they leave the pipeline, for progress displays.
  RunProgress* progress = nullptr;
  // Notified of every stage call, besides the profiler (which is attached when the config's
  // profile is on). Must outlive the run.
  std::vector<StageObserver*> observers{};
  // Set for a run over many items (pipeline/item.h) instead of config.input_path: what the
  // source asks for each next one. Every stage must take items (StageInfo::takes_items, or a
  // parallel transform): see takes_items(config).
  NextItem next_item{};
};

// Whether a run over many items can run `config`: its source and sinks take items, its
// transforms are parallel (they keep no state from frame to frame), and it covers whole inputs.
bool takes_items(const Config& config);

// Runs a validated config over config.input_path: creates and opens every stage (a stage whose
// class does not match its declared kind fails the run with a logic_error's message), runs the
// graph in a oneTBB arena of config.threads, then finishes the stages (or aborts them all
// when anything failed, so no partial output is left at a final path). Never throws for
// failures of the media or the stages; they come back in RunResult::error.
RunResult run_pipeline(const Config& config, const RunEnvironment& environment = {});

}  // namespace framepipe
