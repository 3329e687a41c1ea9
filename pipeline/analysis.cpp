#include "pipeline/analysis.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "pipeline/text_format.h"
#include "pipeline/threads.h"
#include "pipeline/throughput_model.h"

namespace framepipe {

namespace {

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

int workers_of(const StageRunStats& stage, const RunResult& result) {
  if (stage.kind == StageKind::source || stage.ordering != Ordering::parallel) return 1;
  if (stage.concurrency.unlimited) return std::max(1, result.arena_threads);
  return stage.concurrency.count;
}

bool in_arena(const StageRunStats& stage) {
  return stage.kind != StageKind::source && stage.resource == ResourceClass::cpu;
}

// Off-CPU time split: what the threads spent waiting for a core, capped by the off-CPU time,
// and the rest, sleeping.
void split_off_cpu(double wall_s, double cpu_s, double runnable_s, double& off_cpu_s,
                   double& runnable_out, double& sleeping_out) {
  off_cpu_s = std::max(0.0, wall_s - cpu_s);
  runnable_out = std::clamp(runnable_s, 0.0, off_cpu_s);
  sleeping_out = off_cpu_s - runnable_out;
}

StageFigures figures_of(const StageRunStats& stage, const RunResult& result) {
  StageFigures f;
  const double wall = result.wall_s;
  f.workers = workers_of(stage, result);
  f.busy_s = seconds(stage.busy_ns);
  f.helper_cpu_s = seconds(stage.helper_cpu_ns);
  f.cpu_s = seconds(stage.cpu_ns) + f.helper_cpu_s;
  split_off_cpu(f.busy_s, f.cpu_s, seconds(stage.runnable_ns + stage.helper_runnable_ns),
                f.off_cpu_s, f.runnable_s, f.sleeping_s);
  f.blocked_s = seconds(stage.blocked_ns);
  const double idle_s = std::max(0.0, wall * f.workers - f.busy_s - f.blocked_s);
  f.waiting_for_thread_s = std::min(idle_s, seconds(stage.waiting_for_thread_ns));
  f.starved_s = idle_s - f.waiting_for_thread_s;
  f.utilization = wall > 0 ? f.busy_s / (wall * f.workers) : 0.0;
  f.cls = classify(f.busy_s, f.cpu_s, f.runnable_s, wall);
  f.latency = percentiles(stage.frame_call_times);
  for (const auto& phase : stage.phases) {
    PhaseFigures p;
    p.name = phase.name;
    p.wall_s = seconds(phase.wall_ns);
    p.cpu_s = seconds(phase.cpu_ns);
    double runnable = seconds(phase.runnable_ns);
    if (phase.name == stage.helper_threads_phase) {
      p.cpu_s += f.helper_cpu_s;
      runnable += seconds(stage.helper_runnable_ns);
    }
    split_off_cpu(p.wall_s, p.cpu_s, runnable, p.off_cpu_s, p.runnable_s, p.sleeping_s);
    p.cls = classify(p.wall_s, p.cpu_s, p.runnable_s, wall);
    f.phases.push_back(p);
  }
  return f;
}

void add_to_split(RunAnalysis& analysis, const std::string& cls, double seconds_in_class) {
  if (cls == "cpu-bound") analysis.cpu_bound_s += seconds_in_class;
  if (cls == "io-bound") analysis.io_bound_s += seconds_in_class;
  if (cls == "mixed") analysis.mixed_s += seconds_in_class;
}

MachineFigures machine_of(const RunResult& result) {
  MachineFigures machine;
  machine.cores = result.cores;
  const double capacity_s = result.wall_s * result.cores;
  if (capacity_s <= 0) return machine;
  machine.process_share = seconds(result.process_cpu_ns) / capacity_s;
  if (!result.machine_busy_ns) return machine;
  machine.measured = true;
  // /proc/stat counts in clock ticks: never below what this process alone used.
  machine.busy_share =
      std::max(machine.process_share, seconds(*result.machine_busy_ns) / capacity_s);
  machine.other_cpu_share = std::clamp(machine.busy_share - machine.process_share, 0.0, 1.0);
  return machine;
}

// The model's view of the run: every figure per frame the source produced.
ModelInput model_input(const Config& config, const RunResult& result, const RunAnalysis& analysis) {
  ModelInput input;
  const double frames = static_cast<double>(result.frames);
  double arena_stages_s = 0;
  for (std::size_t i = 0; i < result.stages.size(); ++i) {
    const auto& stage = result.stages[i];
    const auto& figures = analysis.stages[i];
    const double holding_s = std::max(0.0, figures.busy_s - figures.runnable_s);
    input.stages.push_back({stage.name, holding_s / frames,
                            static_cast<double>(workers_of(stage, result)), in_arena(stage)});
    if (in_arena(stage)) arena_stages_s += figures.busy_s;
  }
  input.arena_threads = std::max(1, result.arena_threads);
  input.arena_extra_s = std::max(0.0, seconds(result.arena_busy_ns) - arena_stages_s) / frames;
  // Other processes' CPU limits this run only as far as they kept its threads waiting for a
  // core: the share of the time the stages' threads wanted a core and waited. A run that never
  // waited had every core it asked for; one that always waited had only what others left.
  double waited_s = 0;
  double ran_s = 0;
  for (const auto& stage : analysis.stages) {
    waited_s += stage.runnable_s;
    ran_s += stage.cpu_s;
  }
  const double contention = waited_s + ran_s > 0 ? waited_s / (waited_s + ran_s) : 0;
  const double cores = result.cores;
  input.usable_cores = std::max(0.1, cores - analysis.machine.other_cpu_share * cores * contention);
  input.cpu_s =
      std::max(0.0, seconds(result.process_cpu_ns) - analysis.idle_threads_cpu_s) / frames;
  input.frames_in_flight = config.max_frames_in_flight;
  return input;
}

std::string bound_name(const Bound& bound, const RunResult& result) {
  if (bound.kind == Bound::Kind::stage) return "stage " + result.stages[*bound.stage].name;
  return to_string(bound.kind);
}

// The run's fps were its streaming `speedup` times faster: opening and finishing the stages
// take as long as they took.
double predicted_fps(const RunResult& result, double speedup) {
  const double streaming_s = result.streaming_s > 0 ? result.streaming_s : result.wall_s;
  const double wall_s = result.wall_s - streaming_s + streaming_s / speedup;
  return wall_s > 0 ? static_cast<double>(result.frames) / wall_s : 0;
}

// Turns changes of settings into advice with a predicted fps, for the changes the model
// predicts gain at least kMinPredictedGain.
class Advisor {
 public:
  Advisor(const RunResult& result, RunAnalysis& analysis, ModelInput input)
      : result_(result),
        analysis_(analysis),
        input_(std::move(input)),
        now_(predict(input_)),
        measured_fps_(result.fps()) {}

  const ModelPrediction& now() const { return now_; }
  const ModelInput& input() const { return input_; }
  double measured_fps() const { return measured_fps_; }

  // `change` edits a copy of the model's input as the setting would. True when advised.
  template <typename Change>
  bool consider(std::string stage, std::string key, std::string from, std::string to,
                const std::string& reason, Change change) {
    auto changed = input_;
    change(changed);
    const auto after = predict(changed);
    if (now_.fps <= 0 || after.fps < now_.fps * (1 + kMinPredictedGain)) {
      declined_.push_back(key + " " + from + " -> " + to);
      return false;
    }
    Advice advice{std::move(stage), std::move(key), std::move(from), std::move(to), reason};
    advice.predicted_fps = predicted_fps(result_, after.fps / now_.fps);
    advice.predicted_wall_s =
        advice.predicted_fps > 0 ? static_cast<double>(result_.frames) / advice.predicted_fps : 0;
    advice.reason +=
        format(": predicted %.1f fps (now %.1f), then limited by %s", advice.predicted_fps,
               measured_fps_, bound_name(after.limit, result_).c_str());
    analysis_.advice.push_back(std::move(advice));
    return true;
  }

  // The changes considered and predicted to gain too little.
  const std::vector<std::string>& declined() const { return declined_; }

 private:
  const RunResult& result_;
  RunAnalysis& analysis_;
  ModelInput input_;
  ModelPrediction now_;
  double measured_fps_;
  std::vector<std::string> declined_;
};

void advise_stage(const Config& config, const RunResult& result, RunAnalysis& analysis,
                  Advisor& advisor) {
  const auto b = *analysis.bottleneck;
  const auto& stage = result.stages[b];
  const auto& figures = analysis.stages[b];
  const auto& stage_config = config.stages[b];
  const std::string busy =
      "`" + stage.name + "` is busy " + percent(figures.utilization) + " of the run";
  const std::string cores =
      percent(analysis.process_utilization) + " of " + std::to_string(result.cores) + " cores";
  const std::string prefix = "stages." + stage.name;
  auto scale_workers = [b](double factor) {
    return [b, factor](ModelInput& input) { input.stages[b].workers *= factor; };
  };
  const double waiting_share = figures.busy_s > 0 ? figures.sleeping_s / figures.busy_s : 0;

  // A stage that keeps its own requests in flight (a parameter with the in-flight role: HTTP,
  // database sinks) overlaps its waiting with more requests, not with more threads or cores.
  const auto in_flight = integer_with_role(stage_config, ParamRole::in_flight);
  if (in_flight && figures.cls == "io-bound") {
    const auto value = std::max<std::int64_t>(1, in_flight->value);
    const auto limit =
        in_flight->spec->max ? static_cast<std::int64_t>(*in_flight->spec->max) : value * 4;
    const auto to = std::min(limit, value * 4);
    if (to > in_flight->value &&
        advisor.consider(stage.name, prefix + ".params." + in_flight->spec->name,
                         std::to_string(in_flight->value), std::to_string(to),
                         "`" + stage.name + "` sleeps " + percent(waiting_share) +
                             " of its busy time (io-bound; busy " + percent(figures.utilization) +
                             " of the run) with at most " + std::to_string(in_flight->value) +
                             " requests in flight: more requests at once overlap the waiting",
                         scale_workers(static_cast<double>(to) / static_cast<double>(value)))) {
      return;
    }
  }

  // Threads the stage's library starts (a decoder's, an encoder's), set below the cores: more
  // may work on frames in parallel, but how much that gains is the library's (frame threads
  // pay off only on long inputs, slices only on large frames), which the model cannot know.
  const auto helpers = integer_with_role(stage_config, ParamRole::helper_threads);
  if (helpers && helpers->value > 0 && helpers->value < result.cores) {
    analysis.conclusions.push_back(
        busy + " with " + std::to_string(helpers->value) + " helper threads (`" +
        helpers->spec->name + "`) while the process used " + cores +
        ": more may work on frames in parallel, but their gain depends on the library's "
        "threading, so it is not predicted: measure it with `--set " +
        prefix + ".params." + helpers->spec->name + "=" + std::to_string(result.cores) + "`.");
    return;
  }

  if (stage.kind == StageKind::source) {
    analysis.conclusions.push_back(
        "source-bound: " + busy +
        (helpers && helpers->value == 0
             ? " with its helper threads at the stage's default (`" + helpers->spec->name + ": 0`)"
             : "") +
        "; the pipeline downstream waits for frames. Reading several files at once is what "
        "would use more cores.");
    return;
  }

  if (stage.ordering == Ordering::parallel && !stage.concurrency.unlimited) {
    const int workers = figures.workers;
    const bool io = stage.resource == ResourceClass::io;
    const int to = io ? std::min(1024, workers * 2)
                      : std::min(result.arena_threads, std::max(workers + 1, workers * 2));
    if (to > workers &&
        advisor.consider(
            stage.name, prefix + ".concurrency", std::to_string(workers), std::to_string(to),
            busy + " at concurrency " + std::to_string(workers) + " (" + figures.cls +
                ", sleeping " + percent(waiting_share) + " of its busy time): more calls at once",
            scale_workers(static_cast<double>(to) / workers))) {
      return;
    }
  }

  if (const auto rung = faster_rung(stage_config)) {
    analysis.conclusions.push_back(
        busy + " (" + figures.cls + "): the next `" + rung->spec->name + "` down its speed " +
        "ladder (" + rung->current + " -> " + rung->faster +
        ") spends less time per frame but changes the output, so its gain is not predicted: "
        "measure it with `--set " +
        prefix + ".params." + rung->spec->name + "=" + rung->faster + "`.");
    return;
  }
  if (stage.ordering != Ordering::parallel) {
    analysis.conclusions.push_back(
        "`" + stage.name + "` is " + to_string(stage.ordering) + " (one frame at a time) and " +
        "busy " + percent(figures.utilization) +
        " of the run: it sets the pace; only making its work per frame cheaper speeds the "
        "pipeline up.");
    return;
  }
  analysis.conclusions.push_back("`" + stage.name + "` sets the pace at concurrency " +
                                 stage.concurrency.to_string() + " (" + figures.cls + ", " + cores +
                                 " used): lighter parameters for it, or shrinking "
                                 "frames earlier, speed the pipeline up.");
}

// The stages wait for a free oneTBB thread, not for one stage: more threads, up to the cores.
void advise_threads(const Config& config, const RunResult& result, RunAnalysis& analysis,
                    Advisor& advisor) {
  const std::string figures =
      std::to_string(result.arena_threads) +
      (result.arena_threads == 1 ? " oneTBB thread spent " : " oneTBB threads spent ") +
      percent(analysis.threads_utilization) + " of the run in stage calls (" +
      format("%.2f s in %.2f s", seconds(result.arena_busy_ns), result.wall_s) +
      ") on a machine of " + std::to_string(result.cores) + " cores";
  analysis.conclusions.push_back("limited by pipeline.threads: its " + figures +
                                 ": the stages wait for a free thread rather than for one "
                                 "stage; more frames in flight will not help.");
  // threads: 0 already asks for every core the process may use; fewer (CPU affinity) is not
  // the config's to change.
  if (config.threads <= 0 || result.arena_threads >= result.cores) return;
  const int cores = result.cores;
  advisor.consider(result.stages[*analysis.bottleneck].name, "pipeline.threads",
                   std::to_string(config.threads), std::to_string(cores),
                   "the " + figures + ": more threads run more stage calls at once",
                   [&](ModelInput& input) {
                     input.arena_threads = cores;
                     for (std::size_t i = 0; i < input.stages.size(); ++i) {
                       if (result.stages[i].concurrency.unlimited && input.stages[i].in_arena)
                         input.stages[i].workers = cores;
                     }
                   });
}

void advise_flight_cap(const Config& config, const RunResult& result, RunAnalysis& analysis,
                       Advisor& advisor) {
  const auto& now = advisor.now();
  // Enough slots for the next tightest bound, by Little's law, rounded up to a doubling.
  double next_fps = std::numeric_limits<double>::infinity();
  for (const auto& bound : now.bounds) {
    if (bound.kind != Bound::Kind::frames_in_flight) next_fps = std::min(next_fps, bound.fps);
  }
  double through_s = 0;
  for (const auto& stage : advisor.input().stages) through_s += stage.service_s;
  int to = std::max(1, config.max_frames_in_flight) * 2;
  while (std::isfinite(next_fps) && to < 100000 && to < next_fps * through_s) to *= 2;
  to = std::min(to, 100000);
  const double blocked_share =
      result.wall_s > 0 ? analysis.stages.front().blocked_s / result.wall_s : 0;
  analysis.conclusions.push_back(format(
      "limited by pipeline.max_frames_in_flight: %d frames at a time, each %.1f ms through the "
      "stages, allow %.1f fps; the source waited for a free slot %s of the run.",
      config.max_frames_in_flight, through_s * 1000, now.limit.fps,
      percent(blocked_share).c_str()));
  advisor.consider(
      result.stages.front().name, "pipeline.max_frames_in_flight",
      std::to_string(config.max_frames_in_flight), std::to_string(to),
      "frames in flight cap the run (Little's law: " +
          format("%d frames / %.1f ms each", config.max_frames_in_flight, through_s * 1000) +
          "): more keep the stages fed",
      [to](ModelInput& input) { input.frames_in_flight = to; });
}

void fit_model(const Config& config, const RunResult& result, RunAnalysis& analysis) {
  if (result.frames <= 0 || result.wall_s <= 0) return;
  Advisor advisor(result, analysis, model_input(config, result, analysis));
  const auto& now = advisor.now();
  if (now.bounds.empty()) return;
  ModelFigures model;
  model.measured_fps = advisor.measured_fps();
  model.bound_fps = now.fps;
  model.input = advisor.input();
  model.limit = to_string(now.limit.kind);
  if (now.limit.stage) model.limit_stage = result.stages[*now.limit.stage].name;
  for (const auto& bound : now.bounds)
    model.bounds.push_back({bound_name(bound, result), bound.fps});
  std::sort(model.bounds.begin(), model.bounds.end(),
            [](const auto& a, const auto& b) { return a.fps < b.fps; });
  analysis.model = model;
  analysis.limited_by = model.limit;
  if (now.limit.stage) analysis.bottleneck = now.limit.stage;
  if (!analysis.bottleneck) return;

  const auto& stage = result.stages[*analysis.bottleneck];
  const auto& f = analysis.stages[*analysis.bottleneck];
  analysis.conclusions.push_back(format(
      "%s: `%s` (%s, %s) busy %s of the run at concurrency %s",
      bottleneck_word(analysis.limited_by), stage.name.c_str(), stage.type.c_str(), f.cls.c_str(),
      percent(f.utilization).c_str(),
      stage.kind == StageKind::source ? "1 (source)" : stage.concurrency.to_string().c_str()));
  analysis.conclusions.push_back(format(
      "throughput model: %.1f fps measured; the tightest bound is %s at %.1f fps%s",
      model.measured_fps, bound_name(now.limit, result).c_str(), now.fps,
      model.bounds.size() > 1
          ? format(", then %s at %.1f fps", model.bounds[1].what.c_str(), model.bounds[1].fps)
                .c_str()
          : ""));
  switch (now.limit.kind) {
    case Bound::Kind::stage:
      advise_stage(config, result, analysis, advisor);
      break;
    case Bound::Kind::threads:
      advise_threads(config, result, analysis, advisor);
      break;
    case Bound::Kind::cores:
      analysis.conclusions.push_back(format(
          "limited by the cores: the process used %s of %d cores (%.2f CPU-s in %.2f s)%s: "
          "the stages take turns on the cores rather than wait for one stage. Cheaper work per "
          "frame in any stage, or more cores, speeds the run up; more concurrency or more "
          "frames in flight will not.",
          percent(analysis.process_utilization).c_str(), result.cores,
          seconds(result.process_cpu_ns), result.wall_s,
          analysis.machine.other_cpu_share >= kOtherCpuNoticeable
              ? format(" and other processes %s", percent(analysis.machine.other_cpu_share).c_str())
                    .c_str()
              : ""));
      break;
    case Bound::Kind::frames_in_flight:
      advise_flight_cap(config, result, analysis, advisor);
      break;
  }
  if (analysis.advice.empty() && !advisor.declined().empty()) {
    std::string declined;
    for (const auto& change : advisor.declined())
      declined += (declined.empty() ? "" : ", ") + change;
    analysis.conclusions.push_back("no setting change is predicted to gain " +
                                   percent(kMinPredictedGain) +
                                   " or more (considered: " + declined + ").");
  }
}

}  // namespace

Percentiles percentiles(const DurationHistogram& samples_ns) {
  auto ms = [](std::int64_t ns) { return static_cast<double>(ns) / 1e6; };
  return {ms(samples_ns.quantile(0.5)), ms(samples_ns.quantile(0.95)), ms(samples_ns.max())};
}

const char* bottleneck_word(const std::string& limited_by) {
  return limited_by == "stage" ? "bottleneck" : "busiest stage";
}

std::string classify(double busy_s, double cpu_s, double runnable_s, double run_wall_s) {
  if (busy_s < kIdleBusySeconds || busy_s < kIdleRunShare * run_wall_s) return "idle";
  const double ratio = (cpu_s + runnable_s) / busy_s;
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
  analysis.idle_threads_cpu_s =
      std::min(analysis.helper_threads_cpu_s, seconds(result.threads_idle_cpu_ns.value_or(0)));
  analysis.process_utilization =
      result.wall_s > 0 ? process_cpu_s / (result.wall_s * result.cores) : 0.0;
  analysis.latency = percentiles(result.latencies_ns);
  analysis.machine = machine_of(result);

  analysis.threads_utilization =
      result.wall_s > 0 && result.arena_threads > 0
          ? seconds(result.arena_busy_ns) / (result.wall_s * result.arena_threads)
          : 0.0;

  if (analysis.bottleneck) fit_model(config, result, analysis);
  if (analysis.machine.other_cpu_share >= kOtherCpuNoticeable) {
    analysis.conclusions.push_back(format(
        "other processes used %s of the %d cores during the run: this process's threads "
        "waited for a core %.2f s in stage calls (runnable, counted as CPU-bound work, not IO), "
        "and the model leaves out the cores they kept from it",
        percent(analysis.machine.other_cpu_share).c_str(), result.cores, [&] {
          double runnable = 0;
          for (const auto& stage : analysis.stages) runnable += stage.runnable_s;
          return runnable;
        }()));
  }
  if (!result.runnable_measured) {
    analysis.conclusions.push_back(
        "this kernel keeps no run delays (/proc/<tid>/schedstat): time waiting for a core "
        "reads as sleeping");
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
             "(libav/x264/OpenCV threads, scheduling)%s",
             percent(analysis.process_utilization).c_str(), result.cores, process_cpu_s,
             result.wall_s, analysis.helper_threads_cpu_s,
             result.threads_idle_cpu_ns
                 ? format(", of which %.2f s on the engine's threads between calls (oneTBB "
                          "workers spinning while idle)",
                          analysis.idle_threads_cpu_s)
                       .c_str()
                 : ""));
  if (result.latencies_ns.count() > 0) {
    analysis.conclusions.push_back(
        format("latency per frame, source to last stage: p50 %.1f ms, "
               "p95 %.1f ms, max %.1f ms",
               analysis.latency.p50_ms, analysis.latency.p95_ms, analysis.latency.max_ms));
  }
  return analysis;
}

}  // namespace framepipe
