#include "pipeline/analysis.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

namespace framepipe {

namespace {

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string format(const char* pattern, auto... args) {
  std::array<char, 512> buffer{};
  std::snprintf(buffer.data(), buffer.size(), pattern, args...);
  return buffer.data();
}

std::string percent(double share) { return format("%.0f%%", share * 100); }

// A stage's integer parameter that declares `role` (its requests in flight, its helper threads),
// with its value in this config; the engine knows parameters by role, never by name.
struct RoleParam {
  const ParamSpec* spec = nullptr;
  std::int64_t value = 0;
};

std::optional<RoleParam> integer_with_role(const StageConfig& stage, ParamRole role) {
  const auto* spec = stage.info ? stage.info->find_role(role) : nullptr;
  const auto* value = spec ? stage.params.find(spec->name) : nullptr;
  const auto* count = value ? std::get_if<std::int64_t>(value) : nullptr;
  if (!count) return std::nullopt;
  return RoleParam{spec, *count};
}

// The stage's speed-ladder parameter and the rung one step faster than its value, when the
// ladder applies to this instance (the stage decides: an encoder's presets only for its codec).
struct FasterRung {
  const ParamSpec* spec = nullptr;
  std::string current;
  std::string faster;
};

std::optional<FasterRung> faster_rung(const StageConfig& stage) {
  const auto* spec = stage.info ? stage.info->find_role(ParamRole::speed_ladder) : nullptr;
  const auto* value = spec ? stage.params.find(spec->name) : nullptr;
  if (!value || !spec->ladder) return std::nullopt;
  const auto rungs = spec->ladder(stage.params);
  const auto current = format_value(*value);
  const auto at = std::find(rungs.begin(), rungs.end(), current);
  if (at == rungs.end() || at == rungs.begin()) return std::nullopt;
  return FasterRung{spec, current, *(at - 1)};
}

StageFigures figures_of(const StageRunStats& stage, const RunResult& result) {
  StageFigures f;
  const double wall = result.wall_s;
  f.workers = stage.kind == StageKind::source ? 1
              : stage.concurrency.unlimited   ? std::max(1, result.arena_threads)
                                              : stage.concurrency.count;
  f.busy_s = seconds(stage.busy_ns);
  f.helper_cpu_s = seconds(stage.helper_cpu_ns);
  f.cpu_s = seconds(stage.cpu_ns) + f.helper_cpu_s;
  f.off_cpu_s = std::max(0.0, f.busy_s - f.cpu_s);
  f.blocked_s = seconds(stage.blocked_ns);
  f.starved_s = std::max(0.0, wall * f.workers - f.busy_s - f.blocked_s);
  f.utilization = wall > 0 ? f.busy_s / (wall * f.workers) : 0.0;
  f.cls = classify(f.busy_s, f.cpu_s);
  std::vector<std::int64_t> latencies;
  for (const auto& call : stage.invocations) {
    if (call.frame >= 0 && call.kind != CallKind::prepare && call.kind != CallKind::convert)
      latencies.push_back(call.wall_ns);
  }
  f.latency = percentiles(std::move(latencies));
  for (const auto& phase : stage.phases) {
    PhaseFigures p{phase.name, seconds(phase.wall_ns), seconds(phase.cpu_ns), 0, ""};
    if (phase.name == stage.helper_threads_phase) p.cpu_s += f.helper_cpu_s;
    p.off_cpu_s = std::max(0.0, p.wall_s - p.cpu_s);
    p.cls = classify(p.wall_s, p.cpu_s);
    f.phases.push_back(p);
  }
  return f;
}

void add_to_split(RunAnalysis& analysis, const std::string& cls, double seconds_in_class) {
  if (cls == "cpu-bound") analysis.cpu_bound_s += seconds_in_class;
  if (cls == "io-bound") analysis.io_bound_s += seconds_in_class;
  if (cls == "mixed") analysis.mixed_s += seconds_in_class;
}

void advise_bottleneck(const Config& config, const RunResult& result, RunAnalysis& analysis) {
  const auto b = *analysis.bottleneck;
  const auto& stage = result.stages[b];
  const auto& figures = analysis.stages[b];
  const auto& stage_config = config.stages[b];
  const double used = analysis.process_utilization;
  const bool idle_cores = used < 0.85;
  const std::string busy =
      "`" + stage.name + "` is busy " + percent(figures.utilization) + " of the run";
  const std::string cores = percent(used) + " of " + std::to_string(result.cores) + " cores";
  auto advise = [&](std::string key, std::string from, std::string to, std::string reason) {
    analysis.advice.push_back(
        {stage.name, std::move(key), std::move(from), std::move(to), std::move(reason)});
  };
  const std::string prefix = "stages." + stage.name;
  // What limits the run when no key would help; the cores' own conclusion replaces it.
  auto conclude = [&](std::string conclusion) {
    if (analysis.limited_by == "stage") analysis.conclusions.push_back(std::move(conclusion));
  };

  // A stage that keeps its own requests in flight (a parameter with the in-flight role: HTTP,
  // database sinks) overlaps its waiting with more requests, not with more threads or cores.
  const auto in_flight = integer_with_role(stage_config, ParamRole::in_flight);
  if (in_flight && figures.cls == "io-bound") {
    const auto value = in_flight->value;
    const auto limit = in_flight->spec->max ? static_cast<std::int64_t>(*in_flight->spec->max)
                                            : std::max<std::int64_t>(1, value) * 4;
    if (value < limit) {
      advise(prefix + ".params." + in_flight->spec->name, std::to_string(value),
             std::to_string(std::min(limit, std::max<std::int64_t>(1, value) * 4)),
             "`" + stage.name + "` waits " +
                 percent(figures.busy_s > 0 ? figures.off_cpu_s / figures.busy_s : 0) +
                 " of its busy time off-CPU (io-bound; busy " + percent(figures.utilization) +
                 " of the run) with at most " + std::to_string(value) +
                 " requests in flight: more requests at once overlap the waiting; cores are "
                 "not the limit (" +
                 cores + " used)");
      return;
    }
  }

  // Threads the stage's library starts (a decoder's, an encoder's): set below the cores while
  // cores are idle, more of them work on each frame or on more frames at once.
  const auto helpers = integer_with_role(stage_config, ParamRole::helper_threads);
  const bool few_helpers =
      helpers && helpers->value > 0 && helpers->value < result.cores && idle_cores;
  auto advise_helpers = [&](const std::string& doing) {
    advise(prefix + ".params." + helpers->spec->name, std::to_string(helpers->value),
           std::to_string(result.cores),
           busy + doing + " with " + std::to_string(helpers->value) + " helper threads (`" +
               helpers->spec->name + "`) while the process used " + cores +
               ": more of them work on frames in parallel");
  };

  if (stage.kind == StageKind::source) {
    if (few_helpers) {
      advise_helpers(" producing frames");
    } else {
      conclude(
          "source-bound: " + busy +
          (helpers && helpers->value == 0 ? " with its library choosing its helper threads" : "") +
          "; the pipeline downstream waits for frames. Reading several files at once is what "
          "would use more cores.");
    }
    return;
  }

  if (stage.ordering == Ordering::parallel) {
    if (figures.cls == "io-bound") {
      const int to = std::min(1024, figures.workers * 2);
      advise(prefix + ".concurrency", std::to_string(figures.workers), std::to_string(to),
             busy + " at concurrency " + std::to_string(figures.workers) + " and waits " +
                 percent(figures.busy_s > 0 ? figures.off_cpu_s / figures.busy_s : 0) +
                 " of that time off-CPU (io-bound): more calls at once overlap the waiting; "
                 "cores are not the limit (" +
                 cores + " used)");
    } else if (idle_cores && !stage.concurrency.unlimited &&
               figures.workers < result.arena_threads) {
      const int to =
          std::min(result.arena_threads, std::max(figures.workers + 1, figures.workers * 2));
      advise(prefix + ".concurrency", std::to_string(figures.workers), std::to_string(to),
             busy + " at concurrency " + std::to_string(figures.workers) + " (" + figures.cls +
                 ") while the process used " + cores + ": cores are idle");
    } else if (idle_cores && result.arena_threads < result.cores) {
      advise("pipeline.threads", std::to_string(config.threads), std::to_string(result.cores),
             busy + " with " + std::to_string(result.arena_threads) +
                 " oneTBB threads on a machine of " + std::to_string(result.cores) +
                 " cores, of which the process used " + cores);
    } else {
      conclude("CPU-bound: " + cores + " busy and " + busy +
               ": more concurrency will not help; lighter parameters for it (or shrinking frames "
               "earlier) or more cores will.");
    }
    return;
  }

  if (few_helpers) {
    advise_helpers(", one frame at a time,");
  } else if (const auto rung = faster_rung(stage_config)) {
    advise(prefix + ".params." + rung->spec->name, rung->current, rung->faster,
           busy + " one frame at a time (" + figures.cls + "): the next `" + rung->spec->name +
               "` down its speed ladder spends less time per frame; it changes the "
               "output (for an encoder, a somewhat larger file)");
  } else {
    conclude("`" + stage.name + "` is " + to_string(stage.ordering) +
             " (one frame at a time) and " + "busy " + percent(figures.utilization) +
             " of the run: it sets the pace; only making its "
             "work per frame cheaper speeds the pipeline up.");
  }
}

// What sets the run's pace: a stage busy nearly all its workers' time; else the cores, when
// the process keeps them nearly all busy; else the oneTBB threads, when there are fewer than
// cores because pipeline.threads asks for fewer and they are nearly always in stage calls;
// else the busiest stage.
std::string limit_of(const Config& config, const RunAnalysis& analysis, const RunResult& result,
                     const StageFigures& busiest) {
  if (busiest.utilization >= kStageSaturated) return "stage";
  if (analysis.process_utilization >= kCoresSaturated) return "cores";
  if (config.threads > 0 && result.arena_threads < result.cores &&
      analysis.threads_utilization >= kThreadsSaturated) {
    return "threads";
  }
  return "stage";
}

// The stages wait for a free oneTBB thread, not for one stage: more threads, up to the cores.
void advise_threads(const Config& config, const RunResult& result, RunAnalysis& analysis) {
  const auto& busiest = analysis.stages[*analysis.bottleneck];
  const std::string figures =
      std::to_string(result.arena_threads) +
      (result.arena_threads == 1 ? " oneTBB thread spent " : " oneTBB threads spent ") +
      percent(analysis.threads_utilization) + " of the run in stage calls (" +
      format("%.2f s in %.2f s", seconds(result.arena_busy_ns), result.wall_s) +
      ") on a machine of " + std::to_string(result.cores) + " cores";
  analysis.conclusions.push_back(
      "limited by pipeline.threads: its " + figures + ", while the busiest stage was busy " +
      percent(busiest.utilization) +
      " of the run: the stages wait for a free thread rather than for one stage.");
  analysis.advice.push_back({result.stages[*analysis.bottleneck].name, "pipeline.threads",
                             std::to_string(config.threads), std::to_string(result.cores),
                             "the " + figures + ": more threads run more stage calls at once"});
}

void advise_flight_cap(const Config& config, const RunResult& result, RunAnalysis& analysis) {
  if (result.stages.empty() || !analysis.bottleneck || result.wall_s <= 0) return;
  const double blocked_share = analysis.stages[0].blocked_s / result.wall_s;
  const auto& busiest = analysis.stages[*analysis.bottleneck];
  if (blocked_share > 0.3 && busiest.utilization < 0.9 && analysis.process_utilization < 0.85) {
    const int to = std::min(100000, config.max_frames_in_flight * 2);
    analysis.advice.push_back(
        {result.stages[0].name, "pipeline.max_frames_in_flight",
         std::to_string(config.max_frames_in_flight), std::to_string(to),
         "the source waited for a free frame slot " + percent(blocked_share) +
             " of the run while the busiest stage was busy only " + percent(busiest.utilization) +
             " and the process used " + percent(analysis.process_utilization) + " of " +
             std::to_string(result.cores) + " cores: more frames in flight keep the stages fed"});
  }
}

}  // namespace

Percentiles percentiles(std::vector<std::int64_t> samples_ns) {
  if (samples_ns.empty()) return {};
  std::sort(samples_ns.begin(), samples_ns.end());
  auto at = [&](double q) {
    const auto rank =
        static_cast<std::size_t>(q * static_cast<double>(samples_ns.size() - 1) + 0.5);
    return static_cast<double>(samples_ns[rank]) / 1e6;
  };
  return {at(0.5), at(0.95), static_cast<double>(samples_ns.back()) / 1e6};
}

std::string classify(double busy_s, double cpu_s) {
  if (busy_s < kIdleBusySeconds) return "idle";
  const double ratio = cpu_s / busy_s;
  if (ratio >= kCpuBoundRatio) return "cpu-bound";
  if (ratio <= kIoBoundRatio) return "io-bound";
  return "mixed";
}

RunAnalysis analyze(const Config& config, const RunResult& result) {
  RunAnalysis analysis;
  double best = -1;
  for (std::size_t i = 0; i < result.stages.size(); ++i) {
    const auto& stage = result.stages[i];
    auto f = figures_of(stage, result);
    analysis.stage_threads_cpu_s += seconds(stage.cpu_ns);
    double in_phases = 0;
    for (const auto& phase : f.phases) {
      add_to_split(analysis, phase.cls, phase.wall_s);
      in_phases += phase.wall_s;
    }
    add_to_split(analysis, f.cls, std::max(0.0, f.busy_s - in_phases));
    if (f.cls != "idle" && f.utilization > best) {
      best = f.utilization;
      analysis.bottleneck = i;
    }
    analysis.stages.push_back(std::move(f));
  }
  const double process_cpu_s = seconds(result.process_cpu_ns);
  analysis.helper_threads_cpu_s = std::max(0.0, process_cpu_s - analysis.stage_threads_cpu_s);
  analysis.process_utilization =
      result.wall_s > 0 ? process_cpu_s / (result.wall_s * result.cores) : 0.0;
  analysis.latency = percentiles(result.latencies_ns);

  analysis.threads_utilization =
      result.wall_s > 0 && result.arena_threads > 0
          ? seconds(result.arena_busy_ns) / (result.wall_s * result.arena_threads)
          : 0.0;

  if (analysis.bottleneck) {
    const auto& stage = result.stages[*analysis.bottleneck];
    const auto& f = analysis.stages[*analysis.bottleneck];
    analysis.limited_by = limit_of(config, analysis, result, f);
    analysis.conclusions.push_back(format(
        "%s: `%s` (%s, %s) busy %s of the run at concurrency %s",
        analysis.limited_by == "stage" ? "bottleneck" : "busiest stage", stage.name.c_str(),
        stage.type.c_str(), f.cls.c_str(), percent(f.utilization).c_str(),
        stage.kind == StageKind::source ? "1 (source)" : stage.concurrency.to_string().c_str()));
    if (analysis.limited_by == "cores") {
      analysis.conclusions.push_back(format(
          "limited by the cores: the process used %s of %d cores (%.2f CPU-s in %.2f s) while "
          "the busiest stage was busy %s of the run: the stages take turns on the cores rather "
          "than wait for one stage. Cheaper work per frame in any stage, or more cores, speeds "
          "the run up; more concurrency or more frames in flight will not.",
          percent(analysis.process_utilization).c_str(), result.cores, process_cpu_s, result.wall_s,
          percent(f.utilization).c_str()));
    }
    if (analysis.limited_by == "threads") {
      advise_threads(config, result, analysis);
    } else if (f.utilization >= 0.5) {
      advise_bottleneck(config, result, analysis);
    }
  }
  const double staged = analysis.cpu_bound_s + analysis.io_bound_s + analysis.mixed_s;
  if (staged > 0) {
    analysis.conclusions.push_back(
        format("time in stages: %s cpu-bound, %s io-bound, %s mixed (%.2f s in all)",
               percent(analysis.cpu_bound_s / staged).c_str(),
               percent(analysis.io_bound_s / staged).c_str(),
               percent(analysis.mixed_s / staged).c_str(), staged));
  }
  analysis.conclusions.push_back(
      format("process CPU: %s of %d cores (%.2f s in %.2f s); %.2f s of it outside stage calls "
             "(libav/x264/OpenCV threads, scheduling)",
             percent(analysis.process_utilization).c_str(), result.cores, process_cpu_s,
             result.wall_s, analysis.helper_threads_cpu_s));
  if (!result.latencies_ns.empty()) {
    analysis.conclusions.push_back(
        format("latency per frame, source to last stage: p50 %.1f ms, "
               "p95 %.1f ms, max %.1f ms",
               analysis.latency.p50_ms, analysis.latency.p95_ms, analysis.latency.max_ms));
  }
  if (analysis.limited_by != "threads") advise_flight_cap(config, result, analysis);
  return analysis;
}

}  // namespace framepipe
