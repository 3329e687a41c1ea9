#include "pipeline/trace.h"

#include <set>
#include <string>

#include "pipeline/json_text.h"
#include "pipeline/report.h"
#include "pipeline/streamed_file.h"

namespace framepipe {

namespace {

// Each event is dumped on its own (dump_json: its strings valid UTF-8, its keys sorted), so the
// text is byte for byte what dumping one object {displayTimeUnit, otherData, traceEvents}
// gives: nlohmann::json sorts an object's keys, and these three are in that order.
class TraceEventList {
 public:
  explicit TraceEventList(const std::function<void(std::string_view)>& write) : write_(write) {}

  void add(const nlohmann::json& event) {
    if (!first_) write_(",");
    first_ = false;
    write_(dump_json(event));
  }

 private:
  const std::function<void(std::string_view)>& write_;
  bool first_ = true;
};

nlohmann::json slice_event(const StageRunStats& stage, const Invocation& call) {
  nlohmann::json args = {{"cpu_ms", static_cast<double>(call.cpu_ns) / 1e6}};
  if (call.frame >= 0) args["frame"] = call.frame;
  return {{"name", call.kind == CallKind::prepare || call.kind == CallKind::convert
                       ? stage.name + " " + to_string(call.kind)
                       : stage.name},
          {"cat", stage.type},
          {"ph", "X"},
          {"pid", 1},
          {"tid", call.thread},
          {"ts", static_cast<double>(call.start_ns) / 1e3},
          {"dur", static_cast<double>(call.span_ns) / 1e3},
          {"args", args}};
}

}  // namespace

void stream_trace(const RunResult& result, const std::function<void(std::string_view)>& write) {
  std::int64_t invocations_total = 0;
  std::size_t invocations_kept = 0;
  for (const auto& stage : result.stages) {
    invocations_total += stage.invocations_total;
    invocations_kept += stage.invocations.size();
  }
  // A long run's slices are an even sample of its calls (StageMetrics::invocations()).
  write(R"({"displayTimeUnit":"ms","otherData":)");
  write(dump_json(nlohmann::json{{"invocations_total", invocations_total},
                                 {"invocations_kept", invocations_kept}}));
  write(R"(,"traceEvents":[)");
  TraceEventList events(write);
  events.add(
      {{"ph", "M"}, {"pid", 1}, {"name", "process_name"}, {"args", {{"name", "framepipe"}}}});
  std::set<int> threads;
  for (const auto& stage : result.stages) {
    for (const auto& call : stage.invocations) {
      threads.insert(call.thread);
      events.add(slice_event(stage, call));
    }
  }
  for (int thread : threads) {
    auto named = result.thread_names.find(thread);
    const std::string name = named != result.thread_names.end()
                                 ? named->second
                                 : (thread == result.main_thread ? "main" : "oneTBB worker");
    events.add({{"ph", "M"},
                {"pid", 1},
                {"tid", thread},
                {"name", "thread_name"},
                {"args", {{"name", name + " (" + std::to_string(thread) + ")"}}}});
  }
  for (const auto& sample : result.samples) {
    const double ts = static_cast<double>(sample.t_ns) / 1e3;
    events.add({{"name", "frames in flight"},
                {"ph", "C"},
                {"pid", 1},
                {"ts", ts},
                {"args", {{"frames", sample.in_flight}}}});
    for (std::size_t s = 0; s < result.stages.size(); ++s) {
      if (result.stages[s].input.empty()) continue;
      events.add({{"name", "queue " + result.stages[s].input + " -> " + result.stages[s].name},
                  {"ph", "C"},
                  {"pid", 1},
                  {"ts", ts},
                  {"args", {{"frames", sample.queued[s]}}}});
    }
  }
  write("]}");
}

void write_trace_file(const std::filesystem::path& path, const RunResult& result) {
  write_streamed_file_atomically(path, [&](const TextSink& write) {
    stream_trace(result, write);
    write("\n");
  });
}

// Declared in report.h, where the report's other formats are: the streamed text, parsed, for
// code that reads the trace (tests, tools).
nlohmann::json build_trace(const RunResult& result) {
  std::string text;
  stream_trace(result, [&](std::string_view piece) { text += piece; });
  return nlohmann::json::parse(text);
}

}  // namespace framepipe
