#include "pipeline/summary.h"

#include <cstdio>

namespace framepipe {

namespace {

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Frames per second the stage could sustain alone: items over its busy time per worker.
double stage_capacity_fps(const StageRunStats& stage, int arena_threads) {
  const int workers = stage.concurrency.unlimited ? arena_threads : stage.concurrency.count;
  const double busy = seconds(stage.busy_ns);
  return busy > 0 ? static_cast<double>(stage.items) * std::max(workers, 1) / busy : 0.0;
}

std::string line(const char* format, auto... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format, args...);
  return buffer;
}

}  // namespace

std::string format_summary_table(const RunResult& result) {
  std::string out = line("%-16s %-14s %-4s %-11s %8s %9s %9s %9s\n", "stage", "type", "runs",
                         "concurrency", "items", "busy s", "cpu s", "max fps");
  for (const auto& stage : result.stages) {
    const auto concurrency =
        stage.kind == StageKind::source ? std::string("-") : stage.concurrency.to_string();
    out += line("%-16s %-14s %-4s %-11s %8lld %9.3f %9.3f %9.1f\n", stage.name.c_str(),
                stage.type.c_str(), to_string(stage.resource), concurrency.c_str(),
                static_cast<long long>(stage.items), seconds(stage.busy_ns), seconds(stage.cpu_ns),
                stage_capacity_fps(stage, result.arena_threads));
    for (const auto& phase : stage.phases) {
      out += line("  %-38s %8s %9.3f %9.3f\n", ("- " + phase.name).c_str(), "",
                  seconds(phase.wall_ns), seconds(phase.cpu_ns));
    }
  }
  out += line(
      "%lld frames in %.3f s = %.1f fps; %d oneTBB threads; peak %d of %d frames in "
      "flight\n",
      static_cast<long long>(result.frames), result.wall_s, result.fps(), result.arena_threads,
      result.flight_peak, result.flight_capacity);
  return out;
}

nlohmann::json summary_json(const RunResult& result) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : result.stages) {
    nlohmann::json phases = nlohmann::json::array();
    for (const auto& phase : stage.phases) {
      phases.push_back({{"name", phase.name},
                        {"wall_s", seconds(phase.wall_ns)},
                        {"cpu_s", seconds(phase.cpu_ns)}});
    }
    stages.push_back({{"name", stage.name},
                      {"type", stage.type},
                      {"kind", to_string(stage.kind)},
                      {"resource", to_string(stage.resource)},
                      {"ordering", to_string(stage.ordering)},
                      {"concurrency", stage.concurrency.to_string()},
                      {"items", stage.items},
                      {"busy_s", seconds(stage.busy_ns)},
                      {"cpu_s", seconds(stage.cpu_ns)},
                      {"max_fps", stage_capacity_fps(stage, result.arena_threads)},
                      {"phases", phases}});
  }
  nlohmann::json json = {{"input", result.input_path},
                         {"ok", result.ok()},
                         {"wall_s", result.wall_s},
                         {"frames", result.frames},
                         {"fps", result.fps()},
                         {"threads", result.arena_threads},
                         {"max_frames_in_flight", result.flight_capacity},
                         {"peak_frames_in_flight", result.flight_peak},
                         {"stages", stages}};
  if (result.error) json["error"] = result.error->to_string();
  return json;
}

}  // namespace framepipe
