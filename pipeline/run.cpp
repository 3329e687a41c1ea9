#include "pipeline/run.h"

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <set>
#include <thread>

#include "pipeline/graph.h"
#include "pipeline/threads.h"

namespace framepipe {

namespace {

// 40 samples a second: fine enough to see queues fill and drain, cheap enough to leave on.
constexpr std::int64_t kSampleIntervalNs = 25'000'000;

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

RunError stage_error(const Config& config, const StageConfig& stage, const std::string& message) {
  return {config.input_path, stage.name, stage.type, -1, message};
}

// Calls `action` measured as an invocation without a frame (open, finish).
template <typename Action>
void measured(StageMetrics& metrics, Action&& action) {
  const auto wall_start = steady_now_ns();
  const auto cpu_start = thread_cpu_now_ns();
  try {
    action();
  } catch (...) {
    metrics.record(wall_start, steady_now_ns() - wall_start, thread_cpu_now_ns() - cpu_start, -1);
    throw;
  }
  metrics.record(wall_start, steady_now_ns() - wall_start, thread_cpu_now_ns() - cpu_start, -1);
}

}  // namespace

std::int64_t RunResult::counter(const std::string& name) const {
  double total = 0;
  for (const auto& [stage, values] : counters) {
    if (const auto it = values.find(name); it != values.end()) total += it->second;
  }
  return static_cast<std::int64_t>(total);
}

bool RunResult::damaged() const {
  const auto expected = counter("expected_frames");
  return ok() && (counter("damaged_packets") > 0 || (expected > 0 && frames < expected));
}

std::string RunResult::status() const {
  if (cancelled) return "cancelled";
  if (!ok()) return "failed";
  return damaged() ? "damaged" : "ok";
}

std::string RunResult::damage_summary() const {
  return std::to_string(counter("damaged_packets")) + " damaged packets skipped, " +
         std::to_string(frames) + " of " + std::to_string(counter("expected_frames")) +
         " frames decoded";
}

RunResult run_pipeline(const Config& config, const RunEnvironment& environment) {
  RunResult result;
  result.input_path = config.input_path;
  const auto run_start = steady_now_ns();

  std::vector<std::unique_ptr<Stage>> instances;
  std::vector<std::unique_ptr<StageMetrics>> metrics;
  std::vector<GraphStage> graph_stages;
  std::size_t opened = 0;
  for (const auto& stage_config : config.stages) {
    metrics.push_back(
        std::make_unique<StageMetrics>(run_start, stage_config.info->phases, config.profile));
    graph_stages.push_back({&stage_config, nullptr, metrics.back().get()});
  }

  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const auto& stage_config = config.stages[i];
    try {
      instances.push_back(
          stage_config.info->create(StageSetup{stage_config.name, stage_config.params}));
      graph_stages[i].stage = instances.back().get();
      RunContext context{config.input_path, config.output_dir, config.overwrite,
                         metrics[i].get(),  stage_config.name, environment.cancel};
      // Threads the stage starts while opening (libav's decoder threads) are its helpers.
      const auto threads_before = process_thread_ids();
      measured(*metrics[i], [&] { instances.back()->open(context); });
      std::set<int> started;
      for (int tid : process_thread_ids()) {
        if (!threads_before.contains(tid)) started.insert(tid);
      }
      metrics[i]->adopt_threads(started);
      ++opened;
    } catch (...) {
      result.error = stage_error(config, stage_config, describe_current_exception());
      break;
    }
  }

  std::optional<oneapi::tbb::task_arena> own_arena;
  if (!environment.arena) {
    // int{}: a copy, so the constant is not odr-used (Debian's libtbb exports no definition).
    own_arena.emplace(config.threads > 0 ? config.threads
                                         : int{oneapi::tbb::task_arena::automatic});
    own_arena->initialize();
  }
  auto& arena = environment.arena ? *environment.arena : *own_arena;
  result.arena_threads = arena.max_concurrency();
  std::optional<FlightBudget> own_budget;
  if (!environment.budget) own_budget.emplace(config.max_frames_in_flight);
  auto& budget = environment.budget ? *environment.budget : *own_budget;
  FrameCompletions completions(environment.frames_done);
  ThreadNames thread_names;
  const auto cpu_at_start = process_cpu_ns();
  const GraphOptions options{run_start, config.profile, kSampleIntervalNs, environment.cancel};
  if (!result.error) {
    arena.execute([&] {
      auto outcome = execute_graph(graph_stages, budget, completions, thread_names,
                                   config.input_path, options);
      result.error = std::move(outcome.error);
      result.samples = std::move(outcome.samples);
      result.arena_busy_ns = outcome.arena_busy_ns;
    });
  }

  if (!result.error) {
    for (std::size_t i = 0; i < opened && !result.error; ++i) {
      try {
        measured(*metrics[i], [&] { instances[i]->finish(); });
      } catch (...) {
        result.error = stage_error(config, config.stages[i], describe_current_exception());
        // Stages already finished have committed their outputs; the rest discard theirs.
        for (std::size_t j = i; j < opened; ++j) instances[j]->abort();
      }
    }
  } else {
    for (std::size_t i = opened; i-- > 0;) instances[i]->abort();
  }

  if (!result.error) {
    for (const auto& instance : instances) {
      for (auto& path : instance->outputs()) result.outputs.push_back(std::move(path));
    }
  }
  result.cancelled = result.error && environment.cancel && environment.cancel->load();
  for (std::size_t i = 0; i < instances.size(); ++i) {
    auto counters = instances[i]->counters();
    if (!counters.empty()) result.counters[config.stages[i].name] = std::move(counters);
  }
  for (auto& m : metrics) m->sample_helper_threads();
  result.process_cpu_ns = process_cpu_ns() - cpu_at_start;
  result.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  result.profiled = config.profile;
  result.sample_interval_ns = options.sample_interval_ns;
  result.latencies_ns = completions.latencies_ns();
  result.wall_s = static_cast<double>(steady_now_ns() - run_start) / 1e9;
  result.flight_capacity = budget.capacity();
  result.flight_peak = budget.peak();
  result.thread_names = thread_names.snapshot();
  result.main_thread = thread_number();
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const auto& stage = config.stages[i];
    const auto& m = *metrics[i];
    result.stages.push_back({stage.name, stage.type, stage.info->kind, stage.info->resource,
                             stage.info->ordering, stage.concurrency, m.items(), m.busy_ns(),
                             m.cpu_ns(), m.helper_cpu_ns(), m.blocked_ns(), stage.input,
                             stage.info->helper_threads_phase, m.phases(), m.invocations()});
  }
  result.frames = result.stages.empty() ? 0 : result.stages.front().items;
  return result;
}

}  // namespace framepipe
