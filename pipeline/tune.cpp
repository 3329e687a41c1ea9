#include "pipeline/tune.h"

#include <algorithm>
#include <cstdlib>

#include "pipeline/analysis.h"

namespace framepipe {

namespace {

// What a knob may be set to, ascending, up to `limit`, with `now` among them: every count up to
// 16 then doublings (`every_count`), or doublings from 1.
std::vector<std::int64_t> values_up_to(std::int64_t limit, std::int64_t now, bool every_count) {
  std::vector<std::int64_t> values;
  for (std::int64_t v = 1; v <= limit; v = every_count && v < 16 ? v + 1 : v * 2)
    values.push_back(v);
  values.push_back(now);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}
std::vector<std::int64_t> counts_up_to(std::int64_t limit, std::int64_t now) {
  return values_up_to(limit, now, true);
}
std::vector<std::int64_t> doublings_up_to(std::int64_t limit, std::int64_t now) {
  return values_up_to(limit, now, false);
}

std::int64_t value_of(const Knob& knob, const Settings& changes) {
  const auto at = changes.find(knob.key);
  return at == changes.end() ? knob.now : at->second;
}

// The model input of one file with the knobs set to `changes`.
ModelInput changed(ModelInput input, const std::vector<Knob>& knobs, const Settings& changes) {
  for (const auto& knob : knobs) {
    if (!changes.contains(knob.key)) continue;
    const auto value = static_cast<double>(value_of(knob, changes));
    const auto now = static_cast<double>(std::max<std::int64_t>(1, knob.now));
    switch (knob.effect) {
      case Knob::Effect::stage_workers:
        if (knob.stage < input.stages.size()) input.stages[knob.stage].workers = value;
        break;
      case Knob::Effect::stage_in_flight:
        if (knob.stage < input.stages.size()) input.stages[knob.stage].workers *= value / now;
        break;
      case Knob::Effect::threads:
        input.arena_threads = value;
        for (const auto index : knob.unlimited_stages) {
          if (index < input.stages.size()) input.stages[index].workers = value;
        }
        break;
      case Knob::Effect::frames_in_flight:
        input.frames_in_flight = value;
        break;
      case Knob::Effect::files_in_parallel:
        break;
    }
  }
  return input;
}

// A file's wall with its frames flowing `ratio` times as long: opening and finishing the stages,
// and the first frame's way through them (filling the pipeline), take as long as they took.
double predicted_wall(const MeasuredFile& file, double ratio) {
  double fill_s = 0;
  for (const auto& stage : file.model.stages) fill_s += stage.service_s;
  const double fixed_s = std::clamp(file.fixed_s + fill_s, 0.0, file.wall_s);
  return fixed_s + (file.wall_s - fixed_s) * ratio;
}

// The frames per second a batch's files reach together: one file at a time at the rate of
// their walls, times the files at once, capped by the threads, cores and frames in flight they
// share. Each file's wall is scaled by what its own model says the changes do.
double batch_rate(const MeasuredRun& run, const std::vector<Knob>& knobs, const Settings& changes) {
  double frames = 0, wall_s = 0, arena_s = 0, cpu_s = 0, through_s = 0;
  ModelInput shared;
  for (const auto& file : run.files) {
    const auto now = predict(file.model).fps;
    const auto input = changed(file.model, knobs, changes);
    const auto after = predict(input).fps;
    if (now <= 0 || after <= 0) continue;
    frames += file.frames;
    wall_s += predicted_wall(file, now / after);
    double file_arena_s = input.arena_extra_s;
    double file_through_s = 0;
    for (const auto& stage : input.stages) {
      if (stage.in_arena) file_arena_s += stage.service_s;
      file_through_s += stage.service_s;
    }
    arena_s += file.frames * file_arena_s;
    cpu_s += file.frames * input.cpu_s;
    through_s += file.frames * file_through_s;
    shared = input;
  }
  if (frames <= 0 || wall_s <= 0) return 0;
  double files_at_once = 1;
  for (const auto& knob : knobs) {
    if (knob.effect == Knob::Effect::files_in_parallel)
      files_at_once = static_cast<double>(value_of(knob, changes));
  }
  files_at_once = std::min(files_at_once, static_cast<double>(run.files.size()));
  double rate = files_at_once * frames / wall_s;
  auto cap = [&](double capacity, double seconds) {
    if (capacity > 0 && seconds > 0) rate = std::min(rate, capacity * frames / seconds);
  };
  cap(shared.arena_threads, arena_s);
  cap(shared.usable_cores, cpu_s);
  cap(shared.frames_in_flight, through_s);
  return rate;
}

bool same_settings(const std::vector<Knob>& knobs, const Settings& a, const Settings& b) {
  return std::all_of(knobs.begin(), knobs.end(),
                     [&](const Knob& knob) { return value_of(knob, a) == value_of(knob, b); });
}

}  // namespace

double predict_fps(const MeasuredRun& run, const std::vector<Knob>& knobs,
                   const Settings& changes) {
  if (run.batch) {
    const double now = batch_rate(run, knobs, {});
    return now > 0 ? run.fps * batch_rate(run, knobs, changes) / now : 0;
  }
  if (run.files.empty()) return 0;
  const auto& file = run.files.front();
  const double now = predict(file.model).fps;
  const double after = predict(changed(file.model, knobs, changes)).fps;
  const double wall_s = now > 0 && after > 0 ? predicted_wall(file, now / after) : 0;
  return wall_s > 0 ? file.frames / wall_s : 0;
}

std::vector<Knob> tunable_knobs(const Config& config, int cores, std::size_t files) {
  std::vector<Knob> knobs;
  cores = std::max(1, cores);
  const int threads = config.threads > 0 ? config.threads : cores;
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const auto& stage = config.stages[i];
    if (!stage.info || stage.info->kind == StageKind::source) continue;
    const std::string prefix = "stages." + stage.name;
    if (stage.info->ordering == Ordering::parallel && !stage.concurrency.unlimited) {
      const bool io = stage.info->resource == ResourceClass::io;
      const std::int64_t now = stage.concurrency.count;
      knobs.push_back(
          {prefix + ".concurrency", Knob::Effect::stage_workers, i, now,
           io ? doublings_up_to(64, now) : counts_up_to(std::max(cores, threads), now)});
    }
    const auto* spec = stage.info->find_role(ParamRole::in_flight);
    const auto* value = spec ? stage.params.find(spec->name) : nullptr;
    const auto* count = value ? std::get_if<std::int64_t>(value) : nullptr;
    if (count) {
      const auto limit = spec->max ? static_cast<std::int64_t>(*spec->max) : 64;
      knobs.push_back({prefix + ".params." + spec->name, Knob::Effect::stage_in_flight, i, *count,
                       doublings_up_to(std::min<std::int64_t>(limit, 64), *count)});
    }
  }
  // threads: 0 already takes every core; a count below the cores may grow to them.
  if (config.threads > 0) {
    Knob knob{"pipeline.threads", Knob::Effect::threads, 0, config.threads,
              counts_up_to(std::max(cores, config.threads), config.threads)};
    for (std::size_t i = 0; i < config.stages.size(); ++i) {
      const auto& stage = config.stages[i];
      if (stage.info && stage.info->kind != StageKind::source &&
          stage.info->resource == ResourceClass::cpu &&
          stage.info->ordering == Ordering::parallel && stage.concurrency.unlimited)
        knob.unlimited_stages.push_back(i);
    }
    knobs.push_back(std::move(knob));
  }
  knobs.push_back({"pipeline.max_frames_in_flight", Knob::Effect::frames_in_flight, 0,
                   config.max_frames_in_flight, doublings_up_to(256, config.max_frames_in_flight)});
  if (files > 1) {
    const auto limit = std::min<std::int64_t>(static_cast<std::int64_t>(files), 2 * cores);
    knobs.push_back({"pipeline.files_in_parallel", Knob::Effect::files_in_parallel, 0,
                     config.files_in_parallel,
                     counts_up_to(std::max<std::int64_t>(limit, config.files_in_parallel),
                                  config.files_in_parallel)});
  }
  return knobs;
}

std::optional<Proposal> propose(const MeasuredRun& run, const std::vector<Knob>& knobs,
                                const std::vector<Settings>& measured, int max_changes) {
  auto already_measured = [&](const Settings& changes) {
    return std::any_of(measured.begin(), measured.end(),
                       [&](const Settings& m) { return same_settings(knobs, m, changes); });
  };
  Settings best;
  double best_fps = predict_fps(run, knobs, best);
  const double start_fps = best_fps;
  // Climb: the best single change from where we are, while it gains 1% or more.
  for (int step = 0; step < max_changes; ++step) {
    Settings step_best;
    double step_fps = best_fps * 1.01;
    for (const auto& knob : knobs) {
      for (const auto value : knob.values) {
        if (value == value_of(knob, best)) continue;
        auto trial = best;
        trial[knob.key] = value;
        const double fps = predict_fps(run, knobs, trial);
        if (fps > step_fps) {
          step_fps = fps;
          step_best = trial;
        }
      }
    }
    if (step_best.empty()) break;
    best = step_best;
    best_fps = step_fps;
  }
  // The smallest change that keeps the gain: each knob back towards its value now.
  for (const auto& knob : knobs) {
    const auto at = best.find(knob.key);
    if (at == best.end()) continue;
    const auto chosen = at->second;
    std::vector<std::int64_t> closer;
    for (const auto value : knob.values) {
      if ((value - knob.now) * (chosen - knob.now) > 0 &&
          std::llabs(value - knob.now) < std::llabs(chosen - knob.now))
        closer.push_back(value);
    }
    std::sort(closer.begin(), closer.end(),
              [&](auto a, auto b) { return std::llabs(a - knob.now) < std::llabs(b - knob.now); });
    for (const auto value : closer) {
      auto trial = best;
      trial[knob.key] = value;
      if (predict_fps(run, knobs, trial) >= best_fps * 0.99) {
        best = trial;
        break;
      }
    }
  }
  for (auto it = best.begin(); it != best.end();) {
    const auto knob =
        std::find_if(knobs.begin(), knobs.end(), [&](const Knob& k) { return k.key == it->first; });
    it = knob != knobs.end() && knob->now == it->second ? best.erase(it) : std::next(it);
  }
  const double fps = predict_fps(run, knobs, best);
  if (best.empty() || start_fps <= 0 || fps < start_fps * (1 + kMinPredictedGain) ||
      already_measured(best))
    return std::nullopt;
  return Proposal{best, fps};
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<std::string> helper_thread_values(const ParamSpec& spec, const std::string& now,
                                              int cores) {
  cores = std::max(1, cores);
  const bool now_one_per_core = spec.zero_is_one_per_core && now == "0";
  std::vector<std::string> values;
  for (const int threads : {cores, std::max(1, cores / 2), 1}) {
    const auto text = std::to_string(threads);
    if (text == now || (threads == cores && now_one_per_core)) continue;
    if (std::find(values.begin(), values.end(), text) == values.end()) values.push_back(text);
  }
  return values;
}

}  // namespace framepipe
