// report.json against its documented schema (checked by an independent validator), trace.json
// against the run's own invocation records, and the summary and comparison built from them.
#include "pipeline/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "pipeline/analysis.h"
#include "pipeline/summary.h"
#include "stages/register_all.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stages::register_all(registry_);
    dir_ = make_temp_dir("framepipe-report");
    config_ = load_config_text(
        "pipeline: {name: report-test, threads: 2, max_frames_in_flight: 6}\n"
        "stages:\n"
        "  - {type: decode}\n"
        "  - {name: blur, type: gaussian_blur, concurrency: 2}\n"
        "  - {name: edges, type: canny}\n"
        "  - {name: video, type: encode, params: {codec: mpeg4, path: out.avi}}\n"
        "  - {name: tap, type: discard, input: blur}\n",
        "report.yaml", {}, registry_);
    config_.input_path =
        make_clip("report-320x240-60f.mp4",
                  "-f lavfi -i testsrc2=size=320x240:rate=30:duration=2 -c:v libx264 -preset "
                  "ultrafast -pix_fmt yuv420p")
            .string();
    config_.output_dir = (dir_ / "out").string();
    result_ = run_pipeline(config_);
    ASSERT_TRUE(result_.ok()) << result_.error->to_string();
    report_ = build_report(config_, result_, analyze(config_, result_));
  }
  void TearDown() override { fs::remove_all(dir_); }

  Registry registry_;
  Config config_;
  RunResult result_;
  nlohmann::json report_;
  fs::path dir_;
};

TEST_F(ReportTest, ReportJsonValidatesAgainstTheDocumentedSchema) {
  const auto written = write_report(dir_ / "report", {"json"}, report_, result_);
  ASSERT_EQ(written.size(), 1u);
  const auto schema = fs::path(FRAMEPIPE_SOURCE_DIR) / "docs/report.schema.json";
  const auto validate = [&](const fs::path& instance) {
    return run_shell("/usr/bin/python3 -m jsonschema -i " + shell_quote(instance.string()) + " " +
                     shell_quote(schema.string()));
  };
  const auto valid = validate(written[0]);
  EXPECT_EQ(valid.exit_code, 0) << valid.output;
  // The validator does catch a broken report (so the check above means something).
  auto broken = report_;
  broken["stages"][0].erase("busy_s");
  broken["bottleneck"] = 7;
  std::ofstream(dir_ / "broken.json") << broken.dump();
  EXPECT_NE(validate(dir_ / "broken.json").exit_code, 0);
}

TEST_F(ReportTest, FiguresAddUpAndNameRealStages) {
  EXPECT_EQ(report_["frames"], 60);
  EXPECT_EQ(report_["stages"].size(), 5u);
  bool bottleneck_is_a_stage = false;
  for (const auto& stage : report_["stages"]) {
    bottleneck_is_a_stage = bottleneck_is_a_stage || stage["name"] == report_["bottleneck"];
    const double busy = stage["busy_s"], cpu = stage["cpu_s"], off = stage["off_cpu_s"];
    EXPECT_NEAR(off, std::max(0.0, busy - cpu), 1e-9) << stage["name"];
    const double capacity = report_["wall_s"].get<double>() * stage["workers"].get<double>();
    EXPECT_NEAR(stage["utilization"].get<double>(), busy / capacity, 1e-9);
    EXPECT_NEAR(stage["runnable_s"].get<double>() + stage["sleeping_s"].get<double>(), off, 1e-9);
    // Idle workers: with no input (starved), or with input queued, waiting for a thread.
    EXPECT_NEAR(stage["starved_s"].get<double>() + stage["waiting_for_thread_s"].get<double>(),
                std::max(0.0, capacity - busy - stage["blocked_s"].get<double>()), 1e-9);
  }
  EXPECT_TRUE(bottleneck_is_a_stage);
  EXPECT_EQ(report_["stages"][0]["phases"][0]["name"], "demux");
  EXPECT_EQ(report_["stages"][3]["phases"][2]["name"], "mux");
  // The series were sampled at least 20 times a second over the run.
  const auto& t = report_["series"]["t"];
  ASSERT_GE(t.size(), 2u);
  EXPECT_GE(static_cast<double>(t.size()), 20 * report_["wall_s"].get<double>() * 0.8);
  EXPECT_EQ(report_["series"]["queues"].size(), 4u) << "one per edge";
  for (const auto& depth : report_["series"]["frames_in_flight"]) EXPECT_LE(depth.get<int>(), 6);
  EXPECT_EQ(report_["config"]["stages"][1]["concurrency"], "2");
}

TEST_F(ReportTest, StageCountersAreInTheReport) {
  // The clip was made as 60 frames of yuv420p (SetUp's ffmpeg command).
  const nlohmann::json* decode = nullptr;
  for (const auto& stage : report_["stages"]) {
    if (stage["name"] == "decode") decode = &stage;
    ASSERT_TRUE(stage["counters"].is_object()) << stage["name"];
  }
  ASSERT_NE(decode, nullptr);
  const auto& counters = (*decode)["counters"];
  EXPECT_EQ(counters["frames"], 60) << counters;
  EXPECT_EQ(counters["pixel_format_yuv420p"], 60) << counters;
  EXPECT_EQ(counters["damaged_packets"], 0) << counters;
  EXPECT_EQ(counters["frames"], report_["frames"]);
}

TEST_F(ReportTest, TraceHasExactlyOneSlicePerInvocation) {
  const auto written = write_report(dir_ / "report", {"trace"}, report_, result_);
  std::ifstream file(written.at(0));
  const auto trace = nlohmann::json::parse(file);
  std::map<std::string, std::size_t> slices;
  std::set<int> named_threads;
  std::set<int> slice_threads;
  std::size_t counters = 0;
  for (const auto& event : trace["traceEvents"]) {
    if (event["ph"] == "X") {
      ++slices[event["name"]];
      slice_threads.insert(event["tid"].get<int>());
      EXPECT_GE(event["dur"].get<double>(), 0.0);
    } else if (event["ph"] == "M" && event["name"] == "thread_name") {
      named_threads.insert(event["tid"].get<int>());
    } else if (event["ph"] == "C") {
      ++counters;
    }
  }
  for (const auto& stage : result_.stages) {
    const auto count = [&](CallKind kind) {
      return static_cast<std::size_t>(
          std::count_if(stage.invocations.begin(), stage.invocations.end(),
                        [kind](const Invocation& call) { return call.kind == kind; }));
    };
    const auto prepares = count(CallKind::prepare);
    const auto converts = count(CallKind::convert);
    const auto own_calls = stage.invocations.size() - prepares - converts;
    EXPECT_EQ(slices[stage.name], own_calls) << stage.name;
    EXPECT_EQ(slices[stage.name + " prepare"], prepares) << stage.name;
    EXPECT_EQ(slices[stage.name + " convert"], converts) << stage.name;
    EXPECT_GE(own_calls, static_cast<std::size_t>(stage.items));
  }
  // The encoder converts every frame on the workers before its serial call.
  EXPECT_EQ(slices["video prepare"], static_cast<std::size_t>(result_.stages[3].items));
  // Every decoded picture is converted to BGR once (blur reads it), as decode's own work.
  EXPECT_EQ(slices["decode convert"], static_cast<std::size_t>(result_.frames));
  EXPECT_EQ(slice_threads, named_threads) << "every track has a name";
  EXPECT_GT(counters, 0u);
}

TEST_F(ReportTest, SummaryAndComparisonShowTheFigures) {
  const auto summary = format_summary(report_);
  for (const auto& stage : report_["stages"]) {
    EXPECT_NE(summary.find("\n" + stage["name"].get<std::string>() + " "), std::string::npos);
  }
  EXPECT_NE(summary.find("  - demux"), std::string::npos);
  // A run on saturated cores (or too few oneTBB threads) names its busiest stage, and what
  // limits it.
  const auto& limit = report_["limited_by"];
  EXPECT_NE(summary.find(std::string(limit == "stage" ? "bottleneck" : "busiest stage") + ": `" +
                         report_["bottleneck"].get<std::string>() + "`"),
            std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("limited by the cores") != std::string::npos, limit == "cores") << summary;
  EXPECT_EQ(summary.find("limited by pipeline.threads") != std::string::npos, limit == "threads")
      << summary;
  auto other = report_;
  other["config"]["pipeline"]["threads"] = 1;
  other["fps"] = report_["fps"].get<double>() * 2;
  const auto comparison = format_comparison(report_, other);
  EXPECT_NE(comparison.find("pipeline.threads: 2 -> 1"), std::string::npos) << comparison;
  EXPECT_NE(comparison.find("2.00x"), std::string::npos) << comparison;
  EXPECT_EQ(format_comparison(report_, report_).find("differ"), std::string::npos);
}

}  // namespace
}  // namespace framepipe::testing
