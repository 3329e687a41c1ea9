#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/flight_budget.h"
#include "pipeline/profiler.h"
#include "pipeline/run_error.h"
#include "pipeline/stage.h"

namespace framepipe {

// One opened stage, ready to be wired into the flow graph.
struct GraphStage {
  const StageConfig* config = nullptr;
  Stage* stage = nullptr;
  StageMetrics* metrics = nullptr;
};

struct GraphOptions {
  std::int64_t run_start_ns = 0;
  bool sample = true;  // false: no samples kept (profiling off)
  std::int64_t sample_interval_ns = 25'000'000;
  // Set from outside (a signal): the run stops reading frames and fails as "cancelled".
  const std::atomic<bool>* cancel = nullptr;
};

struct GraphOutcome {
  std::optional<RunError> error;
  std::vector<Sample> samples;
  std::int64_t arena_busy_ns = 0;  // wall time the arena's threads spent calling stages
};

// Runs opened stages as a oneTBB flow graph until the source ends or a stage fails:
// - the source runs on a thread of its own and takes a FlightBudget slot per frame;
// - cpu stages are function_nodes with their configured concurrency, inside the caller's
//   oneTBB arena; io stages are async_nodes served by `concurrency` dedicated threads;
// - serial_in_order stages get a sequencer_node in front, so they see frames by index;
// - a stage feeding several consumers hands each of them its own copy of the frame.
// A monitor thread samples queue depths, frames in flight, throughput and process CPU every
// options.sample_interval_ns, and watches options.cancel. Returns the first failure; on failure
// every node drains without calling stages, so the run ends promptly. Must be called inside the
// oneTBB arena the cpu stages should use.
GraphOutcome execute_graph(const std::vector<GraphStage>& stages, FlightBudget& budget,
                           FrameCompletions& completions, ThreadNames& thread_names,
                           const std::string& input_path, const GraphOptions& options);

}  // namespace framepipe
