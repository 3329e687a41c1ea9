#include "pipeline/run.h"

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <thread>

#include "pipeline/graph.h"
#include "pipeline/sched_stats.h"
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

std::vector<ProfiledStage> profiled_stages(const Config& config) {
  std::vector<ProfiledStage> stages;
  for (const auto& stage : config.stages) {
    stages.push_back({stage.info->phases, stage.info->kind == StageKind::source,
                      stage.info->resource == ResourceClass::cpu});
  }
  return stages;
}

// Calls a stage's abort(), observed; abort() does not throw.
void abort_stage(const StageObservers& observers, std::size_t index, Stage& stage) {
  observers.observe({index, CallKind::abort}, [&](StageCall&) { stage.abort(); });
}

// What the opened source knows of its input (decode: from the container's header), for the
// progress display's percent, ETA and speed; read once, before any frame.
void publish_source_figures(const Stage& source, RunProgress& progress) {
  const auto counters = source.counters();
  if (const auto it = counters.find(counter::expected_frames); it != counters.end()) {
    progress.expected_frames = static_cast<std::int64_t>(it->second);
  }
  if (const auto it = counters.find(counter::frame_rate); it != counters.end()) {
    progress.frame_rate = it->second;
  }
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
  const auto expected = counter(counter::expected_frames);
  return ok() && (counter(counter::damaged_packets) > 0 || (expected > 0 && frames < expected));
}

bool RunResult::has_report() const {
  return ok() || (frames > 0 && (cancelled || error->frame != 0));
}

std::string RunResult::status() const {
  if (cancelled) return "cancelled";
  if (!ok()) return "failed";
  return damaged() ? "damaged" : "ok";
}

std::string RunResult::damage_summary() const {
  return std::to_string(counter(counter::damaged_packets)) + " damaged packets skipped, " +
         std::to_string(frames) + " of " + std::to_string(counter(counter::expected_frames)) +
         " frames decoded";
}

bool takes_items(const Config& config) {
  return config.input_window.whole() &&
         std::all_of(config.stages.begin(), config.stages.end(), [](const StageConfig& stage) {
           const auto& info = *stage.info;
           return info.takes_items ||
                  (info.kind == StageKind::transform && info.ordering == Ordering::parallel);
         });
}

RunResult run_pipeline(const Config& config, const RunEnvironment& environment) {
  RunResult result;
  result.input_path = config.input_path;
  const auto run_start = steady_now_ns();

  // profile: false attaches no profiler; the engine still counts frames and their latencies.
  std::optional<Profiler> profiler;
  if (config.profile) profiler.emplace(run_start, profiled_stages(config));
  StageObservers observers;
  if (profiler) observers.attach(*profiler);
  for (auto* observer : environment.observers) observers.attach(*observer);

  SideData side_data;  // outlives the stages, which may hold what it carries
  std::vector<std::unique_ptr<Stage>> instances;
  std::vector<StageCounts> counts(config.stages.size());
  std::vector<GraphStage> graph_stages;
  std::size_t opened = 0;
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const auto& stage_config = config.stages[i];
    try {
      instances.push_back(
          stage_config.info->create(StageSetup{stage_config.name, stage_config.params}));
      graph_stages.push_back(bind_stage(stage_config, *instances.back(), counts[i]));
      RunContext context{config.input_path,
                         config.output_dir,
                         config.overwrite,
                         profiler ? &profiler->metrics(i) : nullptr,
                         stage_config.name,
                         environment.cancel,
                         &side_data,
                         config.input_window,
                         environment.next_item ? &environment.next_item : nullptr,
                         config.sequence_fps};
      observers.observe({i, CallKind::open}, [&](StageCall&) { instances.back()->open(context); });
      ++opened;
    } catch (...) {
      result.error = stage_error(config, stage_config, describe_current_exception());
      break;
    }
  }

  if (environment.progress && opened > 0)
    publish_source_figures(*instances.front(), *environment.progress);

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
  FrameCompletions completions(environment.progress ? &environment.progress->frames : nullptr);
  ThreadNames thread_names;
  const auto cpu_at_start = process_cpu_ns();
  // Only a profiled run reports the machine beside it.
  const auto machine_busy_at_start =
      config.profile ? machine_busy_ns() : std::optional<std::int64_t>{};
  const GraphOptions options{run_start,
                             config.profile,
                             kSampleIntervalNs,
                             result.arena_threads,
                             config.input_window.frames,
                             environment.cancel};
  if (!result.error) {
    const auto streaming_start = steady_now_ns();
    arena.execute([&] {
      auto outcome = execute_graph(graph_stages, budget, completions, thread_names, observers,
                                   config.input_path, options);
      result.error = std::move(outcome.error);
      result.samples = std::move(outcome.samples);
      result.sample_stride = outcome.sample_stride;
      result.samples_taken = outcome.samples_taken;
    });
    result.streaming_s = static_cast<double>(steady_now_ns() - streaming_start) / 1e9;
  }

  if (!result.error) {
    for (std::size_t i = 0; i < opened && !result.error; ++i) {
      try {
        observers.observe({i, CallKind::finish}, [&](StageCall&) { instances[i]->finish(); });
      } catch (...) {
        result.error = stage_error(config, config.stages[i], describe_current_exception());
        // Stages already finished have committed their outputs; the rest discard theirs.
        for (std::size_t j = i; j < opened; ++j) abort_stage(observers, j, *instances[j]);
      }
    }
  } else {
    for (std::size_t i = opened; i-- > 0;) abort_stage(observers, i, *instances[i]);
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
  if (profiler) {
    profiler->finish_run();
    result.arena_busy_ns = profiler->arena_busy_ns();
    if (!environment.arena) result.threads_idle_cpu_ns = profiler->threads_cpu_outside_calls_ns();
  }
  result.process_cpu_ns = process_cpu_ns() - cpu_at_start;
  if (const auto machine_busy_at_end =
          machine_busy_at_start ? machine_busy_ns() : std::optional<std::int64_t>{};
      machine_busy_at_end) {
    result.machine_busy_ns = *machine_busy_at_end - *machine_busy_at_start;
  }
  result.runnable_measured = thread_run_delay_now_ns().has_value();
  result.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  result.profiled = config.profile;
  result.sample_interval_ns = options.sample_interval_ns * result.sample_stride;
  result.latencies_ns = completions.latencies_ns();
  result.wall_s = static_cast<double>(steady_now_ns() - run_start) / 1e9;
  result.flight_capacity = budget.capacity();
  result.flight_peak = budget.peak();
  result.thread_names = thread_names.snapshot();
  result.main_thread = thread_number();
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const auto& stage = config.stages[i];
    StageRunStats stats;
    stats.name = stage.name;
    stats.type = stage.type;
    stats.kind = stage.info->kind;
    stats.resource = stage.info->resource;
    stats.ordering = stage.info->ordering;
    stats.concurrency = stage.concurrency;
    stats.items = counts[i].items.load();
    stats.blocked_ns = counts[i].blocked_ns.load();
    stats.input = stage.input;
    stats.helper_threads_phase = stage.info->helper_threads_phase;
    if (profiler) {
      const auto& m = profiler->metrics(i);
      stats.busy_ns = m.busy_ns();
      stats.cpu_ns = m.cpu_ns();
      stats.helper_cpu_ns = m.helper_cpu_ns();
      stats.runnable_ns = m.runnable_ns();
      stats.helper_runnable_ns = m.helper_runnable_ns();
      stats.waiting_for_thread_ns = counts[i].waiting_for_thread_ns.load();
      stats.phases = profiler->phases(i);
      stats.invocations = m.invocations();
      stats.invocations_total = m.invocations_total();
      stats.frame_call_times = m.frame_call_times();
    }
    result.stages.push_back(std::move(stats));
  }
  result.frames = result.stages.empty() ? 0 : result.stages.front().items;
  return result;
}

}  // namespace framepipe
