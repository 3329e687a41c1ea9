#include "pipeline/trace.h"

#include <charconv>
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

  void add(const nlohmann::json& event) { add_text(dump_json(event)); }

  // An event already in dump_json's text.
  void add_text(std::string_view event) {
    if (!first_) write_(",");
    first_ = false;
    write_(event);
  }

 private:
  const std::function<void(std::string_view)>& write_;
  bool first_ = true;
};

// The text nlohmann::json gives a number: integers as std::to_chars writes them; doubles in its
// own shortest round-trip form (the serializer's to_chars), so the bytes stay dump_json's.
void append_number(std::string& out, std::int64_t value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

void append_number(std::string& out, double value) {
  char digits[64];
  out.append(digits, nlohmann::detail::to_chars(digits, digits + sizeof digits, value));
}

// A stage's calls as trace slices, written without building a JSON tree per call (a run over
// thousands of images has tens of thousands): the strings that repeat are escaped once, and
// the keys come in nlohmann::json's sorted order, so each slice is the bytes dump_json of
//   {name, cat, ph: "X", pid: 1, tid, ts, dur, args: {cpu_ms, frame (when there is one)}}
// gives.
class SliceText {
 public:
  explicit SliceText(const StageRunStats& stage)
      : cat_(dump_json(nlohmann::json(stage.type))),
        name_(dump_json(nlohmann::json(stage.name))),
        prepare_name_(dump_json(nlohmann::json(stage.name + " " + to_string(CallKind::prepare)))),
        convert_name_(dump_json(nlohmann::json(stage.name + " " + to_string(CallKind::convert)))) {}

  const std::string& of(const Invocation& call) {
    text_.assign(R"({"args":{"cpu_ms":)");
    append_number(text_, static_cast<double>(call.cpu_ns) / 1e6);
    if (call.frame >= 0) {
      text_ += R"(,"frame":)";
      append_number(text_, call.frame);
    }
    text_ += R"(},"cat":)";
    text_ += cat_;
    text_ += R"(,"dur":)";
    append_number(text_, static_cast<double>(call.span_ns) / 1e3);
    text_ += R"(,"name":)";
    text_ += call.kind == CallKind::prepare   ? prepare_name_
             : call.kind == CallKind::convert ? convert_name_
                                              : name_;
    text_ += R"(,"ph":"X","pid":1,"tid":)";
    append_number(text_, std::int64_t{call.thread});
    text_ += R"(,"ts":)";
    append_number(text_, static_cast<double>(call.start_ns) / 1e3);
    text_ += '}';
    return text_;
  }

 private:
  std::string cat_, name_, prepare_name_, convert_name_;
  std::string text_;  // reused: one allocation for all of a stage's slices
};

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
    SliceText slices(stage);
    for (const auto& call : stage.invocations) {
      threads.insert(call.thread);
      events.add_text(slices.of(call));
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
