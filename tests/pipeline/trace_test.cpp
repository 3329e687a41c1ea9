// trace.json written as a stream (pipeline/trace.h) against the tree the report writer built
// before: the same bytes, for a synthetic run with every kind of event and for a real run, and
// handed to the writer an event at a time, never as the whole text.
#include "pipeline/trace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "pipeline/config.h"
#include "pipeline/json_text.h"
#include "pipeline/registry.h"
#include "stages/register_all.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

// The trace as report.cpp built it before it was streamed: the whole tree in memory, then
// dump_json(tree) + "\n". Kept here, verbatim, as the reference the streamed text must equal.
nlohmann::json trace_tree_before_streaming(const RunResult& result) {
  nlohmann::json events = nlohmann::json::array();
  events.push_back(
      {{"ph", "M"}, {"pid", 1}, {"name", "process_name"}, {"args", {{"name", "framepipe"}}}});
  std::set<int> threads;
  std::int64_t invocations_total = 0;
  std::size_t invocations_kept = 0;
  for (const auto& stage : result.stages) {
    invocations_total += stage.invocations_total;
    invocations_kept += stage.invocations.size();
    for (const auto& call : stage.invocations) {
      threads.insert(call.thread);
      nlohmann::json args = {{"cpu_ms", static_cast<double>(call.cpu_ns) / 1e6}};
      if (call.frame >= 0) args["frame"] = call.frame;
      events.push_back({{"name", call.kind == CallKind::prepare || call.kind == CallKind::convert
                                     ? stage.name + " " + to_string(call.kind)
                                     : stage.name},
                        {"cat", stage.type},
                        {"ph", "X"},
                        {"pid", 1},
                        {"tid", call.thread},
                        {"ts", static_cast<double>(call.start_ns) / 1e3},
                        {"dur", static_cast<double>(call.span_ns) / 1e3},
                        {"args", args}});
    }
  }
  for (int thread : threads) {
    auto named = result.thread_names.find(thread);
    const std::string name = named != result.thread_names.end()
                                 ? named->second
                                 : (thread == result.main_thread ? "main" : "oneTBB worker");
    events.push_back({{"ph", "M"},
                      {"pid", 1},
                      {"tid", thread},
                      {"name", "thread_name"},
                      {"args", {{"name", name + " (" + std::to_string(thread) + ")"}}}});
  }
  for (const auto& sample : result.samples) {
    const double ts = static_cast<double>(sample.t_ns) / 1e3;
    events.push_back({{"name", "frames in flight"},
                      {"ph", "C"},
                      {"pid", 1},
                      {"ts", ts},
                      {"args", {{"frames", sample.in_flight}}}});
    for (std::size_t s = 0; s < result.stages.size(); ++s) {
      if (result.stages[s].input.empty()) continue;
      events.push_back(
          {{"name", "queue " + result.stages[s].input + " -> " + result.stages[s].name},
           {"ph", "C"},
           {"pid", 1},
           {"ts", ts},
           {"args", {{"frames", sample.queued[s]}}}});
    }
  }
  return {{"traceEvents", events},
          {"displayTimeUnit", "ms"},
          {"otherData",
           {{"invocations_total", invocations_total}, {"invocations_kept", invocations_kept}}}};
}

// A run of three stages with `calls_per_stage` kept calls each (of three times as many made),
// every call kind, frames and none, named and unnamed threads, the main thread, a stage name
// that is not valid UTF-8, and samples with queue depths.
RunResult synthetic_traced_run(int calls_per_stage) {
  RunResult result;
  result.main_thread = 1;
  result.thread_names = {{2, "source decode"}, {3, "io video #0"}};
  const char* names[] = {"decode", "blur\xff", "video"};
  const char* types[] = {"decode", "gaussian_blur", "encode"};
  const CallKind kinds[] = {CallKind::open,    CallKind::next,    CallKind::process,
                            CallKind::consume, CallKind::prepare, CallKind::convert,
                            CallKind::finish,  CallKind::abort};
  for (int s = 0; s < 3; ++s) {
    StageRunStats stage;
    stage.name = names[s];
    stage.type = types[s];
    stage.input = s == 0 ? "" : names[s - 1];
    for (int i = 0; i < calls_per_stage; ++i) {
      Invocation call;
      call.start_ns = 1'000'000LL * i + 137 * s;
      call.span_ns = 2'500 + 17 * i;
      call.wall_ns = 2'000 + 13 * i;
      call.cpu_ns = 1'234'567 + i;
      call.frame = i % 5 == 0 ? -1 : i;
      call.thread = 1 + (i + s) % 6;  // 1: main; 2, 3: named; 4-6: oneTBB workers
      call.kind = kinds[(i + s) % 8];
      stage.invocations.push_back(call);
    }
    stage.invocations_total = 3LL * calls_per_stage;
    result.stages.push_back(stage);
  }
  for (int i = 0; i < 40; ++i) {
    Sample sample;
    sample.t_ns = 25'000'000LL * i;
    sample.in_flight = i % 9;
    sample.queued = {0, i % 4, i % 3};
    result.samples.push_back(sample);
  }
  return result;
}

// stream_trace's pieces, joined, and the largest of them.
struct StreamedTrace {
  std::string text;
  std::size_t largest_piece = 0;
  std::size_t pieces = 0;
};

StreamedTrace streamed_trace_of(const RunResult& result) {
  StreamedTrace streamed;
  stream_trace(result, [&](std::string_view piece) {
    streamed.text += piece;
    streamed.largest_piece = std::max(streamed.largest_piece, piece.size());
    ++streamed.pieces;
  });
  return streamed;
}

TEST(TraceStream, TextIsTheTreeWritersBytesForEveryKindOfEvent) {
  const auto result = synthetic_traced_run(200);
  const auto reference = trace_tree_before_streaming(result);
  const auto streamed = streamed_trace_of(result);
  EXPECT_EQ(streamed.text, dump_json(reference));
  const auto parsed = nlohmann::json::parse(streamed.text);
  EXPECT_EQ(parsed, with_valid_utf8(reference));
  // 1 process name, 600 slices, 6 thread names, 40 samples of 1 + 2 counters.
  EXPECT_EQ(parsed["traceEvents"].size(), 1u + 600u + 6u + 40u * 3u);
  EXPECT_EQ(parsed["otherData"]["invocations_total"], 1800);
  EXPECT_EQ(parsed["otherData"]["invocations_kept"], 600);
}

TEST(TraceStream, ARunWithNothingRecordedGivesTheTreeWritersBytes) {
  const RunResult empty;
  EXPECT_EQ(streamed_trace_of(empty).text, dump_json(trace_tree_before_streaming(empty)));
}

TEST(TraceStream, IsHandedOverAnEventAtATimeNotAsOneText) {
  const auto result = synthetic_traced_run(5000);
  const auto streamed = streamed_trace_of(result);
  ASSERT_GT(streamed.text.size(), 1'000'000u);
  // The largest event here (a slice with a prepare's name and a frame) is well under 512 bytes.
  EXPECT_LT(streamed.largest_piece, 512u);
  EXPECT_GT(streamed.pieces, 15'000u);
}

TEST(TraceStream, FileIsTheTreeWritersTextAndALineBreakAcrossManyChunks) {
  const auto dir = make_temp_dir("framepipe-trace-stream");
  const auto result = synthetic_traced_run(3000);
  write_trace_file(dir / "trace.json", result);
  const auto text = read_text(dir / "trace.json");
  EXPECT_GT(text.size(), 64u * 1024u * 10u) << "spans many of the writer's chunks";
  EXPECT_EQ(text, dump_json(trace_tree_before_streaming(result)) + "\n");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "no temporary file left beside it";
  fs::remove_all(dir);
}

TEST(TraceStream, FileOfARealRunIsTheTreeWritersText) {
  Registry registry;
  stages::register_all(registry);
  const auto dir = make_temp_dir("framepipe-trace-run");
  auto config = load_config_text(
      "pipeline: {name: trace-stream, threads: 2, max_frames_in_flight: 6}\n"
      "stages:\n"
      "  - {type: decode}\n"
      "  - {name: blur, type: gaussian_blur, concurrency: 2}\n"
      "  - {name: video, type: encode, params: {codec: mpeg4, path: out.avi}}\n"
      "  - {name: tap, type: discard, input: blur}\n",
      "trace-stream.yaml", {}, registry);
  config.input_path =
      make_clip("report-320x240-60f.mp4",
                "-f lavfi -i testsrc2=size=320x240:rate=30:duration=2 -c:v libx264 -preset "
                "ultrafast -pix_fmt yuv420p")
          .string();
  config.output_dir = (dir / "out").string();
  const auto result = run_pipeline(config);
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_FALSE(result.samples.empty());
  write_trace_file(dir / "trace.json", result);
  EXPECT_EQ(read_text(dir / "trace.json"), dump_json(trace_tree_before_streaming(result)) + "\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace framepipe::testing
