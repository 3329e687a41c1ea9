// The batch's analysis from its files' reports, on reports with figures chosen so the throughput
// model's bounds can be worked out by hand.
#include "pipeline/batch_analysis.h"

#include <gtest/gtest.h>

#include "pipeline/summary.h"

namespace framepipe {
namespace {

// One file's report.json: 100 frames; a serial source busy 2 s (0.5 s of it on a CPU) and a
// cpu filter on 4 workers busy 0.4 s, all on a CPU; 4 cores, 4 oneTBB threads.
nlohmann::json file_report() {
  return {{"frames", 100},
          {"wall_s", 2.1},
          {"cores", 4},
          {"threads", 4},
          {"machine", {{"other_cpu_share", 0.0}}},
          {"series", {{"interval_s", 0.5}, {"t", {0.5, 1.0, 1.5, 2.0}}, {"fps", {50, 50, 50, 50}}}},
          {"stages",
           {{{"name", "decode"},
             {"type", "decode"},
             {"kind", "source"},
             {"resource", "cpu"},
             {"concurrency", "1"},
             {"workers", 1},
             {"items", 100},
             {"busy_s", 2.0},
             {"cpu_s", 0.5},
             {"runnable_s", 0.0}},
            {{"name", "blur"},
             {"type", "gaussian_blur"},
             {"kind", "transform"},
             {"resource", "cpu"},
             {"concurrency", "4"},
             {"workers", 4},
             {"items", 100},
             {"busy_s", 0.4},
             {"cpu_s", 0.4},
             {"runnable_s", 0.0}}}}};
}

TEST(BatchAnalysis, SerialSourceOnOneSlotAdvisesMoreFilesAtOnceWithTheModelsPrediction) {
  std::vector<BatchFileRun> files;
  for (int i = 0; i < 4; ++i) {
    files.push_back(
        {"f" + std::to_string(i), "ok", 0, 2.125 * i, 2.125 * (i + 1), 100, file_report()});
  }
  const BatchShape shape{1, 4, 16, false, 8.5, 400};
  const auto analysis = analyze_batch(shape, files);

  // Summed in pipeline order.
  ASSERT_EQ(analysis["stages"].size(), 2u);
  EXPECT_EQ(analysis["stages"][0]["name"], "decode");
  EXPECT_DOUBLE_EQ(analysis["stages"][0]["busy_s"].get<double>(), 8.0);
  EXPECT_EQ(analysis["stages"][0]["class"], "io-bound");  // 2 of 8 s on a CPU
  EXPECT_EQ(analysis["stages"][1]["name"], "blur");
  EXPECT_EQ(analysis["stages"][1]["items"].get<int>(), 400);
  EXPECT_DOUBLE_EQ(analysis["stages"][1]["busy_s"].get<double>(), 1.6);
  // blur: 1.6 s over 8.5 s × 4 workers.
  EXPECT_NEAR(analysis["stages"][1]["utilization"].get<double>(), 1.6 / (8.5 * 4), 1e-12);

  // decode: 1 worker / (8 s / 400 frames) = 50 fps; blur 4 / 0.004 = 1000; threads 4 / 0.004 =
  // 1000; cores 4 / (3.6 s / 400) = 444; frames in flight 16 / 0.024 s = 667.
  EXPECT_EQ(analysis["bottleneck"], "decode");
  EXPECT_EQ(analysis["limited_by"], "stage");
  EXPECT_NEAR(analysis["throughput_model"]["bound_fps"].get<double>(), 50.0, 1e-9);
  EXPECT_NEAR(analysis["throughput_model"]["measured_fps"].get<double>(), 400 / 8.5, 1e-9);

  // Two files at once: decode 100 fps, blur 2000, the rest unchanged: twice the bound, so twice
  // the measured fps is predicted. Threads are at the cores already: no advice for them.
  ASSERT_EQ(analysis["advice"].size(), 1u) << analysis["advice"];
  const auto& advice = analysis["advice"][0];
  EXPECT_EQ(advice["key"], "pipeline.files_in_parallel");
  EXPECT_EQ(advice["from"], "1");
  EXPECT_EQ(advice["to"], "2");
  EXPECT_NEAR(advice["predicted_fps"].get<double>(), 2 * 400 / 8.5, 1e-9);
  EXPECT_NEAR(advice["predicted_wall_s"].get<double>(), 8.5 / 2, 1e-9);

  // The series holds the 400 frames; the timeline the 4 files on slot 0.
  double frames = 0;
  for (const auto& fps : analysis["series"]["fps"])
    frames += fps.get<double>() * analysis["series"]["bin_s"].get<double>();
  EXPECT_NEAR(frames, 400.0, 1e-9);
  ASSERT_EQ(analysis["timeline"].size(), 4u);
  EXPECT_DOUBLE_EQ(analysis["timeline"][3]["start_s"].get<double>(), 6.375);
  EXPECT_EQ(analysis["timeline"][3]["slot"].get<int>(), 0);
}

TEST(BatchAnalysis, AFileRunningAloneAtTheEndIsNamedAStraggler) {
  const std::vector<BatchFileRun> files = {{"short.mp4", "ok", 0, 0.0, 1.0, 10, nullptr},
                                           {"long.mp4", "ok", 1, 0.0, 5.0, 50, nullptr}};
  const auto analysis = analyze_batch({2, 0, 16, false, 5.0, 60}, files);
  EXPECT_TRUE(analysis["bottleneck"].is_null()) << "no reports: no model";
  const auto conclusions = analysis["conclusions"].dump();
  // (1 s + 5 s) / (5 s × 2 slots)
  EXPECT_NE(conclusions.find("2 file slots were busy 60% of the batch"), std::string::npos)
      << conclusions;
  EXPECT_NE(conclusions.find("straggler: `long.mp4` ran alone for the last 4.00 s (80%"),
            std::string::npos)
      << conclusions;
  // Without series, each file's frames spread over its run: 60 in all.
  double frames = 0;
  for (const auto& fps : analysis["series"]["fps"])
    frames += fps.get<double>() * analysis["series"]["bin_s"].get<double>();
  EXPECT_NEAR(frames, 60.0, 1e-9);
}

// A batch's images through one graph: the graph's run (2 s, 100 frames, with its report) holds
// their frames and time; the 100 images' own rows overlap it and only join the timeline.
TEST(BatchAnalysis, ImagesRunAsItemsCountOnceThroughTheirGraph) {
  std::vector<BatchFileRun> files;
  for (int i = 0; i < 100; ++i) {
    BatchFileRun image{std::to_string(i) + ".jpg", "ok", 0, 0.02 * i, 0.02 * i + 0.5, 1, nullptr};
    image.item = true;
    files.push_back(image);
  }
  auto graph = file_report();
  graph["wall_s"] = 2.0;
  files.push_back({"images", "ok", 0, 0.0, 2.0, 100, graph});
  const auto analysis = analyze_batch({2, 4, 16, false, 2.0, 100}, files);

  double frames = 0;
  for (const auto& fps : analysis["series"]["fps"])
    frames += fps.get<double>() * analysis["series"]["bin_s"].get<double>();
  EXPECT_NEAR(frames, 100.0, 1e-9);
  const auto conclusions = analysis["conclusions"].dump();
  // 2 s of the graph in 2 s × 1 slot: the images' 50 s of overlapping rows are not slots' time.
  EXPECT_NE(conclusions.find("1 file slot was busy 100% of the batch (2.00 s of files"),
            std::string::npos)
      << conclusions;
  // One graph: more files at once would run no more of it.
  EXPECT_TRUE(analysis["advice"].empty()) << analysis["advice"];
  EXPECT_EQ(analysis["timeline"].size(), 101u);
}

// The terminal names a stage the bottleneck only when the model finds that stage limiting, as
// a single run's report does; under the cores' limit it is the busiest stage.
TEST(BatchAnalysis, SummaryCallsAStageTheBottleneckOnlyWhenItLimits) {
  std::vector<BatchFileRun> files;
  for (int i = 0; i < 4; ++i) {
    files.push_back(
        {"f" + std::to_string(i), "ok", 0, 2.125 * i, 2.125 * (i + 1), 100, file_report()});
  }
  auto batch = analyze_batch({1, 4, 16, false, 8.5, 400}, files);
  ASSERT_EQ(batch["limited_by"], "stage");
  EXPECT_NE(format_batch_summary(batch).find("\nbottleneck: decode (limited by stage)\n"),
            std::string::npos)
      << format_batch_summary(batch);

  // decode on a CPU all the time and on 4 workers in the arena: 24 ms of CPU per frame, so the
  // 4 cores and the 4 oneTBB threads bound the run at 4 / 0.024 s = 167 fps, before decode's
  // 4 / 0.02 s = 200 fps.
  for (auto& file : files) {
    file.report["stages"][0]["cpu_s"] = 2.0;
    file.report["stages"][0]["concurrency"] = "unlimited";
    file.report["stages"][0]["workers"] = 4;
    file.report["stages"][0]["kind"] = "transform";
  }
  batch = analyze_batch({1, 4, 16, false, 8.5, 400}, files);
  ASSERT_NE(batch["limited_by"], "stage") << batch["throughput_model"];
  const auto summary = format_batch_summary(batch);
  EXPECT_NE(summary.find("\nbusiest stage: " + batch["bottleneck"].get<std::string>() +
                         " (limited by " + batch["limited_by"].get<std::string>() + ")\n"),
            std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("bottleneck:"), std::string::npos) << summary;
}

}  // namespace
}  // namespace framepipe
