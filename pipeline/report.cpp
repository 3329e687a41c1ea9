#include "pipeline/report.h"

#include <fstream>
#include <stdexcept>

#include "pipeline/atomic_file.h"
#include "pipeline/json_text.h"
#include "pipeline/report_html.h"
#include "pipeline/safe_text.h"
#include "pipeline/threads.h"
#include "pipeline/trace.h"

namespace framepipe {

namespace {

nlohmann::json latency_json(const Percentiles& p) {
  return {{"p50", p.p50_ms}, {"p95", p.p95_ms}, {"max", p.max_ms}};
}

nlohmann::json series_json(const RunResult& result) {
  nlohmann::json t = nlohmann::json::array(), fps = nlohmann::json::array(),
                 cpu = nlohmann::json::array(), in_flight = nlohmann::json::array();
  // Frames leave the pipeline in bursts (an encoder releases several at once), so throughput
  // is taken over a trailing window rather than between two samples 25 ms apart; a window that
  // reaches back to the sample before at least, where a long run's samples lie further apart.
  constexpr std::int64_t kFpsWindowNs = 250'000'000;
  std::size_t window_start = 0;
  for (std::size_t i = 0; i < result.samples.size(); ++i) {
    const auto& sample = result.samples[i];
    t.push_back(seconds(sample.t_ns));
    in_flight.push_back(sample.in_flight);
    while (window_start + 1 < i && sample.t_ns - result.samples[window_start].t_ns > kFpsWindowNs) {
      ++window_start;
    }
    const auto& first = result.samples[window_start];
    const double window = seconds(sample.t_ns - first.t_ns);
    fps.push_back(window > 0 ? static_cast<double>(sample.frames_done - first.frames_done) / window
                             : 0.0);
    if (i == 0) {
      cpu.push_back(0.0);
      continue;
    }
    const auto& before = result.samples[i - 1];
    const double dt = seconds(sample.t_ns - before.t_ns);
    cpu.push_back(dt > 0 ? seconds(sample.process_cpu_ns - before.process_cpu_ns) / dt : 0.0);
  }
  nlohmann::json queues = nlohmann::json::array();
  for (std::size_t s = 0; s < result.stages.size(); ++s) {
    if (result.stages[s].input.empty()) continue;
    nlohmann::json depth = nlohmann::json::array();
    for (const auto& sample : result.samples) depth.push_back(sample.queued[s]);
    queues.push_back(
        {{"from", result.stages[s].input}, {"to", result.stages[s].name}, {"depth", depth}});
  }
  return {{"interval_s", result.sample_interval_ns > 0 ? seconds(result.sample_interval_ns) : 1.0},
          {"samples_taken", result.samples_taken},
          {"t", t},
          {"fps", fps},
          {"cpu_cores", cpu},
          {"frames_in_flight", in_flight},
          {"queues", queues}};
}

// What the stage counted (Stage::counters(): packets, damaged packets, dropped streams …).
nlohmann::json counters_of(const RunResult& result, const std::string& stage) {
  const auto it = result.counters.find(stage);
  return it == result.counters.end() ? nlohmann::json::object() : nlohmann::json(it->second);
}

// The graph rewrites the run's config made (pipeline/rewrite.h), in order.
nlohmann::json rewrites_json(const Config& config) {
  nlohmann::json rewrites = nlohmann::json::array();
  for (const auto& rewrite : config.rewrites_made) {
    rewrites.push_back({{"name", rewrite.name},
                        {"moved", rewrite.moved},
                        {"before", rewrite.before},
                        {"line", rewrite.text()}});
  }
  return rewrites;
}

}  // namespace

nlohmann::json build_report(const Config& config, const RunResult& result,
                            const RunAnalysis& analysis) {
  nlohmann::json stages = nlohmann::json::array();
  for (std::size_t i = 0; i < result.stages.size(); ++i) {
    const auto& stage = result.stages[i];
    const auto& f = analysis.stages[i];
    nlohmann::json phases = nlohmann::json::array();
    for (const auto& p : f.phases) {
      phases.push_back({{"name", p.name},
                        {"wall_s", p.wall_s},
                        {"cpu_s", p.cpu_s},
                        {"off_cpu_s", p.off_cpu_s},
                        {"runnable_s", p.runnable_s},
                        {"sleeping_s", p.sleeping_s},
                        {"class", p.cls}});
    }
    stages.push_back(
        {{"name", stage.name},
         {"type", stage.type},
         {"kind", to_string(stage.kind)},
         {"resource", to_string(stage.resource)},
         {"ordering", to_string(stage.ordering)},
         {"concurrency",
          stage.kind == StageKind::source ? std::string("1") : stage.concurrency.to_string()},
         {"workers", f.workers},
         {"class", f.cls},
         {"items", stage.items},
         {"busy_s", f.busy_s},
         {"cpu_s", f.cpu_s},
         {"helper_cpu_s", f.helper_cpu_s},
         {"off_cpu_s", f.off_cpu_s},
         {"runnable_s", f.runnable_s},
         {"sleeping_s", f.sleeping_s},
         {"starved_s", f.starved_s},
         {"waiting_for_thread_s", f.waiting_for_thread_s},
         {"blocked_s", f.blocked_s},
         {"utilization", f.utilization},
         {"latency_ms", latency_json(f.latency)},
         {"invocations_total", stage.invocations_total},
         {"invocations_kept", stage.invocations.size()},
         {"phases", phases},
         {"counters", counters_of(result, stage.name)}});
  }
  nlohmann::json advice = nlohmann::json::array();
  for (const auto& a : analysis.advice) {
    advice.push_back({{"stage", a.stage},
                      {"key", a.key},
                      {"from", a.from},
                      {"to", a.to},
                      {"reason", a.reason},
                      {"predicted_fps", a.predicted_fps},
                      {"predicted_wall_s", a.predicted_wall_s}});
  }
  nlohmann::json model;
  if (analysis.model) {
    nlohmann::json bounds = nlohmann::json::array();
    for (const auto& bound : analysis.model->bounds)
      bounds.push_back({{"what", bound.what}, {"fps", bound.fps}});
    model = {{"measured_fps", analysis.model->measured_fps},
             {"bound_fps", analysis.model->bound_fps},
             {"limit", analysis.model->limit},
             {"limit_stage", analysis.model->limit_stage.empty()
                                 ? nlohmann::json()
                                 : nlohmann::json(analysis.model->limit_stage)},
             {"bounds", bounds},
             {"input", to_json(analysis.model->input)}};
  }
  const auto& machine = analysis.machine;
  const double staged = analysis.cpu_bound_s + analysis.io_bound_s + analysis.mixed_s;
  auto share = [&](double s) { return staged > 0 ? s / staged : 0.0; };
  // Credentials in URLs (the input, a database or an endpoint in the config, an error) stay
  // out of every report.
  return redact_json_credentials(nlohmann::json{
      {"schema", kReportSchema},
      {"framepipe_version", FRAMEPIPE_VERSION},
      {"pipeline", config.name},
      {"input", result.input_path},
      {"ok", result.ok()},
      {"status", result.status()},
      {"error", result.error ? nlohmann::json(result.error->to_string()) : nlohmann::json()},
      {"wall_s", result.wall_s},
      {"streaming_s", result.streaming_s},
      {"frames", result.frames},
      {"fps", result.fps()},
      {"cores", result.cores},
      {"threads", std::max(1, result.arena_threads)},
      {"max_frames_in_flight", result.flight_capacity},
      {"peak_frames_in_flight", result.flight_peak},
      {"profiled", result.profiled},
      {"cpu",
       {{"process_cpu_s", seconds(result.process_cpu_ns)},
        {"utilization", analysis.process_utilization},
        {"threads_utilization", analysis.threads_utilization},
        {"stage_threads_cpu_s", analysis.stage_threads_cpu_s},
        {"helper_threads_cpu_s", analysis.helper_threads_cpu_s},
        {"idle_threads_cpu_s", analysis.idle_threads_cpu_s}}},
      {"machine",
       {{"measured", machine.measured},
        {"cores", machine.cores},
        {"busy_share", machine.busy_share},
        {"process_share", machine.process_share},
        {"other_cpu_share", machine.other_cpu_share},
        {"runnable_measured", result.runnable_measured}}},
      {"throughput_model", model},
      {"stages", stages},
      {"latency_ms", latency_json(analysis.latency)},
      {"bottleneck", analysis.bottleneck ? nlohmann::json(result.stages[*analysis.bottleneck].name)
                                         : nlohmann::json()},
      {"limited_by",
       analysis.limited_by.empty() ? nlohmann::json() : nlohmann::json(analysis.limited_by)},
      {"split",
       {{"cpu_bound_s", analysis.cpu_bound_s},
        {"io_bound_s", analysis.io_bound_s},
        {"mixed_s", analysis.mixed_s},
        {"cpu_share", share(analysis.cpu_bound_s)},
        {"io_share", share(analysis.io_bound_s)},
        {"mixed_share", share(analysis.mixed_s)}}},
      {"advice", advice},
      {"conclusions", analysis.conclusions},
      {"rewrites", rewrites_json(config)},
      {"config", nlohmann::json::parse(dump_json(config_json(config)))},
      {"series", series_json(result)}});
}

std::vector<std::filesystem::path> write_report(const std::filesystem::path& dir,
                                                const std::vector<std::string>& formats,
                                                const nlohmann::json& report,
                                                const RunResult& result) {
  std::vector<std::filesystem::path> written;
  if (formats.empty()) return written;
  std::filesystem::create_directories(dir);
  for (const auto& format : formats) {
    std::filesystem::path path;
    if (format == "json") {
      path = dir / "report.json";
      write_file_atomically(path, dump_json(report, 2) + "\n");
    } else if (format == "trace") {
      path = dir / "trace.json";
      write_trace_file(path, result);
    } else if (format == "html") {
      path = dir / "report.html";
      write_file_atomically(path, render_html_report(report));
    }
    written.push_back(path);
  }
  return written;
}

nlohmann::json read_report(const std::filesystem::path& dir) {
  const auto path = dir / "report.json";
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read '" + path.string() + "': no report there");
  try {
    auto report = nlohmann::json::parse(file);
    if (report.value("schema", "") != kReportSchema) {
      throw std::runtime_error("not a " + std::string(kReportSchema) + " report");
    }
    return report;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("'" + path.string() + "' is not valid JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("'" + path.string() + "': " + e.what());
  }
}

}  // namespace framepipe
