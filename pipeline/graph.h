#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/flight_budget.h"
#include "pipeline/observer.h"
#include "pipeline/profiler.h"
#include "pipeline/run_error.h"
#include "pipeline/stage.h"

namespace framepipe {

// What the engine counts of each stage whether or not anything observes the run.
struct StageCounts {
  std::atomic<std::int64_t> items{0};       // frames the stage handled (a source: produced)
  std::atomic<std::int64_t> blocked_ns{0};  // the source, waiting for a frames-in-flight slot
  std::atomic<int> queued{0};               // frames handed to the stage and not yet started
  std::atomic<int> running{0};              // calls of the stage in progress
  // Frames queued for the stage while it had a free worker, summed over time (sampled): the
  // input was there, waiting for a thread to run it (or, in-order, for an earlier frame).
  std::atomic<std::int64_t> waiting_for_thread_ns{0};
};

// One created stage, ready to be wired into the flow graph: exactly one of source, transform
// and sink is set, the one its StageInfo::kind names.
struct GraphStage {
  const StageConfig* config = nullptr;
  SourceStage* source = nullptr;
  TransformStage* transform = nullptr;
  SinkStage* sink = nullptr;
  StageCounts* counts = nullptr;
};

// Binds a created stage to the kind its StageInfo declares. Throws std::logic_error naming the
// type when the stage's class does not derive from that kind's base class (a registration
// mistake), so it is caught before the stage is opened.
GraphStage bind_stage(const StageConfig& config, Stage& stage, StageCounts& counts);

struct GraphOptions {
  std::int64_t run_start_ns = 0;
  bool sample = true;  // false: no samples kept (profiling off)
  std::int64_t sample_interval_ns = 25'000'000;
  int arena_threads = 1;        // the workers of a stage of unlimited concurrency
  std::int64_t max_frames = 0;  // the source is asked for at most this many frames; 0: all
  // Set from outside (a signal): the run stops reading frames and fails as "cancelled".
  const std::atomic<bool>* cancel = nullptr;
};

struct GraphOutcome {
  std::optional<RunError> error;
  std::vector<Sample> samples;     // at most kSamplesKept + 1
  std::int64_t sample_stride = 1;  // the samples kept are every sample_stride-th taken
  std::int64_t samples_taken = 0;
};

// Runs opened stages as a oneTBB flow graph until the source ends or a stage fails:
// - the source runs on a thread of its own and takes a FlightBudget slot per frame;
// - cpu stages are function_nodes with their configured concurrency, inside the caller's
//   oneTBB arena; io stages are async_nodes served by `concurrency` dedicated threads;
// - serial_in_order stages get a sequencer_node in front, so they see frames by index;
// - a stage feeding several consumers hands each of them its own copy of the frame.
// Every stage call (and every conversion of the source's deferred pixels) goes through
// observers.observe(). A monitor thread samples queue depths, frames in flight, throughput and
// process CPU every options.sample_interval_ns, sums the time each stage's input waited for a
// thread, ticks the observers, and watches options.cancel.
// Returns the first failure; on failure every node drains without calling stages, so the run ends
// promptly. Must be called inside the oneTBB arena the cpu stages should use.
GraphOutcome execute_graph(const std::vector<GraphStage>& stages, FlightBudget& budget,
                           FrameCompletions& completions, ThreadNames& thread_names,
                           const StageObservers& observers, const std::string& input_path,
                           const GraphOptions& options);

}  // namespace framepipe
