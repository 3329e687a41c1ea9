#include "pipeline/batch_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "pipeline/analysis.h"
#include "pipeline/json_fields.h"
#include "pipeline/text_format.h"
#include "pipeline/throughput_model.h"

namespace framepipe {

namespace {

const nlohmann::json& stages_of(const nlohmann::json& report) {
  static const nlohmann::json none = nlohmann::json::array();
  if (!report.is_object()) return none;
  const auto it = report.find("stages");
  return it != report.end() && it->is_array() ? *it : none;
}

// The runs that held a slot: the files, and the images' one graph, without its items.
int slot_runs(const std::vector<BatchFileRun>& files) {
  return static_cast<int>(
      std::count_if(files.begin(), files.end(), [](const auto& file) { return !file.item; }));
}

// A stage's figures summed over the files, with what one file's graph gives it.
struct StageTotal {
  std::string name, type, kind, resource, ordering, concurrency;
  int files = 0;
  double workers = 1;  // one file's
  double items = 0, busy_s = 0, cpu_s = 0, runnable_s = 0, sleeping_s = 0, starved_s = 0,
         waiting_for_thread_s = 0, blocked_s = 0;
  bool in_arena() const { return kind != "source" && resource == "cpu"; }
};

std::vector<StageTotal> sum_stages(const std::vector<BatchFileRun>& files) {
  std::vector<StageTotal> totals;
  for (const auto& file : files) {
    for (const auto& stage : stages_of(file.report)) {
      const auto name = json_string(stage, "name");
      auto it = std::find_if(totals.begin(), totals.end(),
                             [&](const StageTotal& t) { return t.name == name; });
      if (it == totals.end()) {
        // Every file runs the same pipeline: the first report's order is the pipeline's.
        it = totals.insert(
            totals.end(), StageTotal{name, json_string(stage, "type"), json_string(stage, "kind"),
                                     json_string(stage, "resource"), json_string(stage, "ordering"),
                                     json_string(stage, "concurrency")});
        it->workers = std::max(1.0, json_number(stage, "workers"));
      }
      ++it->files;
      it->items += json_number(stage, "items");
      it->busy_s += json_number(stage, "busy_s");
      it->cpu_s += json_number(stage, "cpu_s");
      it->runnable_s += json_number(stage, "runnable_s");
      it->sleeping_s += json_number(stage, "sleeping_s");
      it->starved_s += json_number(stage, "starved_s");
      it->waiting_for_thread_s += json_number(stage, "waiting_for_thread_s");
      it->blocked_s += json_number(stage, "blocked_s");
    }
  }
  return totals;
}

// The batch's frames per second over time: each file's own fps series, moved to when the file
// started, integrated into bins of the batch's time, so the bins' frames add up to the files'
// (a file without a series counts its frames evenly over its run).
nlohmann::json throughput_series(const BatchShape& shape, const std::vector<BatchFileRun>& files) {
  const double bin_s = std::max(0.25, shape.wall_s / 60);
  const auto bins = static_cast<std::size_t>(std::max(1.0, std::ceil(shape.wall_s / bin_s)));
  std::vector<double> frames(bins, 0.0);
  auto add = [&](double at_s, double count) {
    const auto bin = static_cast<std::size_t>(std::clamp(at_s / bin_s, 0.0, bins - 1.0));
    frames[bin] += count;
  };
  for (const auto& file : files) {
    if (file.item) continue;
    const auto& series = file.report.is_object() && file.report.contains("series")
                             ? file.report["series"]
                             : nlohmann::json();
    const double interval = json_number(series, "interval_s");
    if (series.is_object() && series.contains("t") && series.contains("fps") &&
        series["t"].is_array() && series["fps"].is_array() &&
        series["t"].size() == series["fps"].size() && interval > 0) {
      // The series is a trailing-window rate, whose integral misses the frames an encoder
      // releases after the last sample: scaled so that the file's frames add up.
      double integral = 0;
      for (const auto& fps : series["fps"]) integral += fps.is_number() ? fps.get<double>() : 0;
      integral *= interval;
      if (integral > 0) {
        const double scale = static_cast<double>(file.frames) / integral;
        for (std::size_t i = 0; i < series["t"].size(); ++i) {
          if (!series["t"][i].is_number() || !series["fps"][i].is_number()) continue;
          add(file.start_s + series["t"][i].get<double>(),
              series["fps"][i].get<double>() * interval * scale);
        }
        continue;
      }
    }
    const double run_s = file.end_s - file.start_s;
    const auto steps = static_cast<int>(std::max(1.0, std::ceil(run_s / bin_s)));
    for (int step = 0; step < steps; ++step) {
      add(file.start_s + (step + 0.5) * run_s / steps, static_cast<double>(file.frames) / steps);
    }
  }
  nlohmann::json t = nlohmann::json::array(), fps = nlohmann::json::array();
  for (std::size_t bin = 0; bin < bins; ++bin) {
    t.push_back((static_cast<double>(bin) + 0.5) * bin_s);
    fps.push_back(frames[bin] / bin_s);
  }
  return {{"bin_s", bin_s}, {"t", t}, {"fps", fps}};
}

nlohmann::json timeline_of(const std::vector<BatchFileRun>& files) {
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& file : files) timeline.push_back(timeline_row(file));
  return timeline;
}

// The slots' use: the share of wall × slots the files kept busy, and the file that ended last
// when it ran alone for a noticeable share of the batch (a straggler).
void conclude_slots(const BatchShape& shape, const std::vector<BatchFileRun>& files,
                    nlohmann::json& conclusions) {
  const int runs = slot_runs(files);
  if (runs == 0 || shape.wall_s <= 0) return;
  const int slots = std::max(1, std::min(shape.files_in_parallel, runs));
  double busy_s = 0;
  for (const auto& file : files) {
    if (!file.item) busy_s += file.end_s - file.start_s;
  }
  conclusions.push_back(format("%d file %s busy %s of the batch (%.2f s of files in %.2f s × %d)",
                               slots, slots == 1 ? "slot was" : "slots were",
                               percent(busy_s / (shape.wall_s * slots)).c_str(), busy_s,
                               shape.wall_s, slots));
  if (slots < 2) return;
  std::vector<const BatchFileRun*> by_end;
  for (const auto& file : files) {
    if (!file.item) by_end.push_back(&file);
  }
  std::sort(by_end.begin(), by_end.end(),
            [](const auto* a, const auto* b) { return a->end_s < b->end_s; });
  const auto& last = *by_end.back();
  const double alone_s = last.end_s - std::max(last.start_s, by_end[by_end.size() - 2]->end_s);
  if (alone_s < 0.1 * shape.wall_s) return;
  conclusions.push_back(format(
      "straggler: `%s` ran alone for the last %.2f s (%s of the batch) while the other slots "
      "had no file left; starting the longest files first, or splitting them, shortens the tail",
      last.name.c_str(), alone_s, percent(alone_s / shape.wall_s).c_str()));
}

class BatchModel {
 public:
  BatchModel(const BatchShape& shape, const std::vector<StageTotal>& stages,
             const std::vector<BatchFileRun>& files)
      : shape_(shape), stages_(stages) {
    double frames = 0, cpu_s = 0, runnable_s = 0, other_share_s = 0, report_wall_s = 0;
    for (const auto& file : files) {
      frames += json_number(file.report, "frames");
      const double wall = json_number(file.report, "wall_s");
      const auto& machine = file.report.is_object() && file.report.contains("machine")
                                ? file.report["machine"]
                                : nlohmann::json();
      other_share_s += json_number(machine, "other_cpu_share") * wall;
      report_wall_s += wall;
      cores_ = std::max(cores_, static_cast<int>(json_number(file.report, "cores")));
      threads_per_file_ =
          std::max(threads_per_file_, static_cast<int>(json_number(file.report, "threads")));
    }
    slots_ = std::max(1, std::min(shape.files_in_parallel, slot_runs(files)));
    input_.arena_threads = std::max(1, threads_per_file_ * (shape.isolated ? slots_ : 1));
    for (const auto& stage : stages) {
      const double holding_s = std::max(0.0, stage.busy_s - stage.runnable_s);
      input_.stages.push_back({stage.name, frames > 0 ? holding_s / frames : 0,
                               stage.workers * slots_, stage.in_arena()});
      cpu_s += stage.cpu_s;
      runnable_s += stage.runnable_s;
    }
    const double contention = runnable_s + cpu_s > 0 ? runnable_s / (runnable_s + cpu_s) : 0;
    const double other_share = report_wall_s > 0 ? other_share_s / report_wall_s : 0;
    input_.usable_cores = std::max(0.1, cores_ - other_share * cores_ * contention);
    input_.cpu_s = frames > 0 ? cpu_s / frames : 0;
    input_.frames_in_flight = std::max(1, shape.max_frames_in_flight);
    valid_ = frames > 0 && !stages.empty();
    if (valid_) now_ = predict(input_);
    measured_fps_ = shape.wall_s > 0 ? static_cast<double>(shape.frames) / shape.wall_s : 0;
  }

  bool valid() const { return valid_ && now_.fps > 0; }
  const ModelPrediction& now() const { return now_; }
  std::string bound_name(const Bound& bound) const {
    return bound.kind == Bound::Kind::stage ? "stage " + stages_[*bound.stage].name
                                            : to_string(bound.kind);
  }

  nlohmann::json model_json() const {
    nlohmann::json bounds = nlohmann::json::array();
    auto sorted = now_.bounds;
    std::sort(sorted.begin(), sorted.end(),
              [](const Bound& a, const Bound& b) { return a.fps < b.fps; });
    for (const auto& bound : sorted)
      bounds.push_back({{"what", bound_name(bound)}, {"fps", bound.fps}});
    return {{"measured_fps", measured_fps_},
            {"bound_fps", now_.fps},
            {"limit", to_string(now_.limit.kind)},
            {"limit_stage",
             now_.limit.stage ? nlohmann::json(stages_[*now_.limit.stage].name) : nlohmann::json()},
            {"bounds", bounds}};
  }

  // The advice the model predicts gains at least kMinPredictedGain: more files at once (up to
  // the files there were) and pipeline.threads up to the cores.
  nlohmann::json advice(int file_count) const {
    nlohmann::json advice = nlohmann::json::array();
    const int more_files = std::min(file_count, shape_.files_in_parallel * 2);
    if (more_files > shape_.files_in_parallel) {
      const double factor = static_cast<double>(more_files) / slots_;
      consider(advice, "pipeline.files_in_parallel", shape_.files_in_parallel, more_files,
               "each file's graph adds its own serial stages' workers (a decoder, an encoder): "
               "more files at once run more of them",
               [&](ModelInput& input) {
                 for (auto& stage : input.stages) stage.workers *= factor;
                 if (shape_.isolated) input.arena_threads *= factor;
               });
    }
    if (!shape_.isolated && shape_.threads > 0 && input_.arena_threads < cores_) {
      consider(advice, "pipeline.threads", shape_.threads, cores_,
               format("the files share %d oneTBB threads on a machine of %d cores",
                      static_cast<int>(input_.arena_threads), cores_),
               [&](ModelInput& input) {
                 input.arena_threads = cores_;
                 for (std::size_t i = 0; i < input.stages.size(); ++i) {
                   if (stages_[i].concurrency == "unlimited" && input.stages[i].in_arena)
                     input.stages[i].workers = static_cast<double>(cores_) * slots_;
                 }
               });
    }
    return advice;
  }

 private:
  template <typename Change>
  void consider(nlohmann::json& advice, const std::string& key, int from, int to,
                const std::string& reason, Change change) const {
    auto changed = input_;
    change(changed);
    const auto after = predict(changed);
    if (after.fps < now_.fps * (1 + kMinPredictedGain)) return;
    const double predicted = measured_fps_ * after.fps / now_.fps;
    advice.push_back(
        {{"stage", nullptr},
         {"key", key},
         {"from", std::to_string(from)},
         {"to", std::to_string(to)},
         {"reason", reason + format(": predicted %.1f fps (now %.1f), then limited by %s",
                                    predicted, measured_fps_, bound_name(after.limit).c_str())},
         {"predicted_fps", predicted},
         {"predicted_wall_s", predicted > 0 ? static_cast<double>(shape_.frames) / predicted : 0}});
  }

  const BatchShape& shape_;
  const std::vector<StageTotal>& stages_;
  ModelInput input_;
  ModelPrediction now_;
  bool valid_ = false;
  int cores_ = 1;
  int threads_per_file_ = 1;
  int slots_ = 1;
  double measured_fps_ = 0;
};

}  // namespace

nlohmann::json analyze_batch(const BatchShape& shape, const std::vector<BatchFileRun>& files,
                             bool with_timeline) {
  const auto stages = sum_stages(files);
  const int slots = std::max(1, std::min(shape.files_in_parallel, slot_runs(files)));
  nlohmann::json stage_rows = nlohmann::json::array();
  for (const auto& stage : stages) {
    const double workers_s = shape.wall_s * stage.workers * slots;
    stage_rows.push_back(
        {{"name", stage.name},
         {"type", stage.type},
         {"class", classify(stage.busy_s, stage.cpu_s, stage.runnable_s, shape.wall_s)},
         {"files", stage.files},
         {"items", static_cast<std::int64_t>(stage.items)},
         {"busy_s", stage.busy_s},
         {"cpu_s", stage.cpu_s},
         {"runnable_s", stage.runnable_s},
         {"sleeping_s", stage.sleeping_s},
         {"starved_s", stage.starved_s},
         {"waiting_for_thread_s", stage.waiting_for_thread_s},
         {"blocked_s", stage.blocked_s},
         {"utilization", workers_s > 0 ? stage.busy_s / workers_s : 0.0}});
  }
  nlohmann::json conclusions = nlohmann::json::array();
  nlohmann::json analysis = {{"stages", stage_rows},
                             {"bottleneck", nullptr},
                             {"limited_by", nullptr},
                             {"throughput_model", nullptr},
                             {"advice", nlohmann::json::array()},
                             {"series", throughput_series(shape, files)},
                             {"timeline", with_timeline ? timeline_of(files) : nlohmann::json()}};
  const BatchModel model(shape, stages, files);
  if (model.valid()) {
    const auto& now = model.now();
    // The stage the model finds limiting, or else the busiest per worker.
    std::size_t bottleneck = 0;
    if (now.limit.stage) {
      bottleneck = *now.limit.stage;
    } else {
      for (std::size_t i = 1; i < stages.size(); ++i) {
        if (stages[i].busy_s / stages[i].workers >
            stages[bottleneck].busy_s / stages[bottleneck].workers)
          bottleneck = i;
      }
    }
    analysis["bottleneck"] = stages[bottleneck].name;
    analysis["limited_by"] = to_string(now.limit.kind);
    analysis["throughput_model"] = model.model_json();
    analysis["advice"] = model.advice(slot_runs(files));
    conclusions.push_back(format(
        "throughput model of the batch: %.1f fps measured; the tightest bound is %s at %.1f fps",
        shape.wall_s > 0 ? static_cast<double>(shape.frames) / shape.wall_s : 0.0,
        model.bound_name(now.limit).c_str(), now.fps));
  }
  conclude_slots(shape, files, conclusions);
  analysis["conclusions"] = conclusions;
  return analysis;
}

nlohmann::json timeline_row(const BatchFileRun& file) {
  nlohmann::json row = {{"file", file.name},   {"slot", file.slot},     {"start_s", file.start_s},
                        {"end_s", file.end_s}, {"status", file.status}, {"frames", file.frames}};
  if (file.item) row["item"] = true;
  return row;
}

}  // namespace framepipe
