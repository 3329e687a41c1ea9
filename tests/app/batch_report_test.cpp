// A batch's report through the framepipe binary: batch.json's per-stage totals, timeline and
// throughput against the files' own reports and ffprobe; `report show` and `report compare` on
// batch folders (files_in_parallel 1 vs 2) and on single runs; --resume keeping the earlier
// run's entries.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;
using reliability::kSourceDir;
// configs/default.yaml's stages, in pipeline order (not alphabetical: blur < decode).
const std::vector<std::string> kPipelineOrder = {"decode", "blur", "edges", "video"};

using reliability::framepipe;

std::string one_decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

// Where each of `names` first appears in `text`, in order: npos for a missing one.
std::vector<std::size_t> positions(const std::string& text, const std::vector<std::string>& names,
                                   const std::string& suffix) {
  std::vector<std::size_t> found;
  for (const auto& name : names) found.push_back(text.find("\n" + name + suffix));
  return found;
}

void expect_in_order(const std::vector<std::size_t>& found, const std::string& text) {
  for (std::size_t i = 0; i < found.size(); ++i) {
    ASSERT_NE(found[i], std::string::npos) << kPipelineOrder[i] << " missing in\n" << text;
    if (i > 0) {
      EXPECT_LT(found[i - 1], found[i]) << kPipelineOrder[i] << " out of order\n" << text;
    }
  }
}

class BatchReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-batch-report");
    in_ = dir_ / "in";
    fs::create_directories(in_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A clip of `seconds` at 10 fps, 96x64.
  fs::path clip(const std::string& name, int seconds) {
    const auto source =
        make_clip("batch-report-96x64-" + std::to_string(seconds) + "s.mp4",
                  "-f lavfi -i testsrc2=size=96x64:rate=10:duration=" + std::to_string(seconds) +
                      " -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    fs::copy_file(source, in_ / name);
    return in_ / name;
  }

  CommandResult run_batch(const fs::path& out, int files_in_parallel,
                          const std::string& extra = "") {
    return framepipe(
        "run " + shell_quote((kSourceDir / "configs/default.yaml").string()) + " --quiet --input " +
        shell_quote(in_.string()) + " --output " + shell_quote(out.string()) +
        " --set pipeline.files_in_parallel=" + std::to_string(files_in_parallel) + " " + extra);
  }

  fs::path dir_, in_;
};

TEST_F(BatchReportTest, BatchJsonSumsTheFilesReportsAndShowsTheSlots) {
  clip("a.mp4", 1);
  clip("b.mp4", 2);
  clip("c.mp4", 3);
  const auto out = dir_ / "out";
  const auto result = run_batch(out, 2);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto batch = read_json(out / "report/batch.json");

  // Stages: each one's figures are the sum of the files' report.json figures, in pipeline order.
  std::int64_t probed_frames = 0;
  std::map<std::string, double> busy, cpu, runnable;
  for (const auto& file : batch["files"]) {
    probed_frames += frame_count((in_ / file["relative"].get<std::string>()).string());
    const auto report =
        read_json(out / "report" / file["report"].get<std::string>() / "report.json");
    for (const auto& stage : report["stages"]) {
      busy[stage["name"]] += stage["busy_s"].get<double>();
      cpu[stage["name"]] += stage["cpu_s"].get<double>();
      runnable[stage["name"]] += stage["runnable_s"].get<double>();
    }
  }
  EXPECT_EQ(probed_frames, 60);
  EXPECT_EQ(batch["totals"]["frames"].get<std::int64_t>(), probed_frames);
  ASSERT_EQ(batch["stages"].size(), kPipelineOrder.size());
  for (std::size_t i = 0; i < kPipelineOrder.size(); ++i) {
    const auto& stage = batch["stages"][i];
    const auto& name = kPipelineOrder[i];
    EXPECT_EQ(stage["name"], name);
    EXPECT_EQ(stage["files"].get<int>(), 3);
    EXPECT_EQ(stage["items"].get<std::int64_t>(), probed_frames) << name;
    EXPECT_NEAR(stage["busy_s"].get<double>(), busy[name], 1e-9) << name;
    EXPECT_NEAR(stage["cpu_s"].get<double>(), cpu[name], 1e-9) << name;
    EXPECT_NEAR(stage["runnable_s"].get<double>(), runnable[name], 1e-9) << name;
  }
  // The bottleneck is one of the stages; the model's measured fps is the batch's.
  const auto bottleneck = batch["bottleneck"].get<std::string>();
  EXPECT_NE(std::find(kPipelineOrder.begin(), kPipelineOrder.end(), bottleneck),
            kPipelineOrder.end());
  EXPECT_NEAR(batch["throughput_model"]["measured_fps"].get<double>(),
              static_cast<double>(probed_frames) / batch["totals"]["wall_s"].get<double>(), 1e-6);

  // Timeline: each file once, on slot 0 or 1, inside the batch's wall time, as long as its
  // own wall time; never more than two files at a time on one slot.
  const double wall = batch["totals"]["wall_s"].get<double>();
  ASSERT_EQ(batch["timeline"].size(), 3u);
  for (const auto& file : batch["timeline"]) {
    const int slot = file["slot"].get<int>();
    EXPECT_TRUE(slot == 0 || slot == 1) << file;
    EXPECT_GE(file["start_s"].get<double>(), 0.0);
    EXPECT_LE(file["end_s"].get<double>(), wall);
    for (const auto& other : batch["timeline"]) {
      if (&other == &file || other["slot"] != file["slot"]) continue;
      EXPECT_TRUE(other["end_s"].get<double>() <= file["start_s"].get<double>() ||
                  other["start_s"].get<double>() >= file["end_s"].get<double>())
          << "two files at once on slot " << slot;
    }
  }
  // A file's run happens inside its slot's span, which also holds writing its report (longer
  // under a sanitizer or a loaded machine, so no upper bound but the batch's wall).
  for (const auto& file : batch["files"]) {
    const double span = file["end_s"].get<double>() - file["start_s"].get<double>();
    EXPECT_GE(span, file["wall_s"].get<double>() - 0.001) << file["relative"];
    EXPECT_LE(span, wall) << file["relative"];
  }
  // Throughput over time: its bins hold every frame of the batch.
  double frames_in_bins = 0;
  for (const auto& fps : batch["series"]["fps"])
    frames_in_bins += fps.get<double>() * batch["series"]["bin_s"].get<double>();
  EXPECT_NEAR(frames_in_bins, static_cast<double>(probed_frames), 1e-6);

  // batch.html draws them, with nothing fetched from the network.
  const auto html = read_text(out / "report/batch.html");
  EXPECT_NE(html.find("<svg class=\"timeline\""), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"throughput\""), std::string::npos);
  std::size_t bars = 0;
  for (auto at = html.find("<rect "); at != std::string::npos; at = html.find("<rect ", at + 1))
    ++bars;
  EXPECT_EQ(bars, 3u);
  // A stage is the bottleneck only when the model finds it limiting (the single run's words).
  const bool stage_limits = batch["limited_by"] == "stage";
  EXPECT_NE(
      html.find((stage_limits ? "Bottleneck: <b>" : "Busiest stage: <b>") + bottleneck + "</b>"),
      std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
}

TEST_F(BatchReportTest, ShowAndCompareWorkOnBatchFolders) {
  clip("a.mp4", 1);
  clip("b.mp4", 2);
  const auto one = dir_ / "one";
  const auto two = dir_ / "two";
  ASSERT_EQ(run_batch(one, 1).exit_code, 0);
  ASSERT_EQ(run_batch(two, 2).exit_code, 0);
  const auto batch_one = read_json(one / "report/batch.json");
  const auto batch_two = read_json(two / "report/batch.json");

  const auto shown = framepipe("report show " + shell_quote((two / "report").string()));
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("batch of 2 files: 2 ok"), std::string::npos) << shown.output;
  EXPECT_NE(
      shown.output.find(std::to_string(batch_two["totals"]["frames"].get<int>()) + " frames in"),
      std::string::npos);
  EXPECT_NE(shown.output.find("= " + one_decimal(batch_two["totals"]["fps"].get<double>()) +
                              " fps; 2 files at once"),
            std::string::npos)
      << shown.output;
  const auto shown_one = framepipe("report show " + shell_quote((one / "report").string()));
  EXPECT_NE(shown_one.output.find(" fps; 1 file at once\n"), std::string::npos) << shown_one.output;
  EXPECT_NE(
      shown.output.find((batch_two["limited_by"] == "stage" ? "bottleneck: " : "busiest stage: ") +
                        batch_two["bottleneck"].get<std::string>()),
      std::string::npos);
  expect_in_order(positions(shown.output, kPipelineOrder, " "), shown.output);

  const auto compared = framepipe("report compare " + shell_quote((one / "report").string()) + " " +
                                  shell_quote((two / "report").string()));
  ASSERT_EQ(compared.exit_code, 0) << compared.output;
  const auto& text = compared.output;
  EXPECT_NE(text.find("pipeline.files_in_parallel: 1 -> 2"), std::string::npos) << text;
  const auto fps_row = text.find("\nfps ");
  ASSERT_NE(fps_row, std::string::npos) << text;
  const auto row = text.substr(fps_row, text.find('\n', fps_row + 1) - fps_row);
  EXPECT_NE(row.find(one_decimal(batch_one["totals"]["fps"].get<double>())), std::string::npos)
      << row;
  EXPECT_NE(row.find(one_decimal(batch_two["totals"]["fps"].get<double>())), std::string::npos)
      << row;
  expect_in_order(positions(text, kPipelineOrder, " busy_s"), text);
  // Each side's verdict is its batch's model conclusion; its advice, or "none".
  for (const auto& [side, batch] : {std::pair{"A", &batch_one}, std::pair{"B", &batch_two}}) {
    EXPECT_NE(text.find(std::string("verdict ") + side + ": " +
                        (*batch)["conclusions"][0].get<std::string>()),
              std::string::npos)
        << side << "\n"
        << text;
    const auto& advice = (*batch)["advice"];
    EXPECT_NE(text.find(std::string("advice ") + side + ": " +
                        (advice.empty() ? "none" : "set " + advice[0]["key"].get<std::string>())),
              std::string::npos)
        << text;
  }
}

TEST_F(BatchReportTest, CompareOfSingleRunsListsStagesInPipelineOrderWithVerdicts) {
  const auto input = clip("a.mp4", 2);
  for (const char* threads : {"1", "2"}) {
    const auto result =
        framepipe("run " + shell_quote((kSourceDir / "configs/default.yaml").string()) +
                  " --quiet -i " + shell_quote(input.string()) + " -o " +
                  shell_quote((dir_ / threads).string()) + " --set pipeline.threads=" + threads);
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  const auto compared = framepipe("report compare " + shell_quote((dir_ / "1/report").string()) +
                                  " " + shell_quote((dir_ / "2/report").string()));
  ASSERT_EQ(compared.exit_code, 0) << compared.output;
  expect_in_order(positions(compared.output, kPipelineOrder, " busy_s"), compared.output);
  EXPECT_NE(compared.output.find("pipeline.threads: 1 -> 2"), std::string::npos);
  for (const char* side : {"1", "2"}) {
    const auto report = read_json(dir_ / side / "report/report.json");
    std::string limited;
    for (const auto& conclusion : report["conclusions"]) {
      if (conclusion.get<std::string>().starts_with("limited by") ||
          conclusion.get<std::string>().starts_with("source-bound")) {
        limited = conclusion.get<std::string>();
        break;
      }
    }
    if (limited.empty()) continue;  // the verdict is then the model's line
    EXPECT_NE(compared.output.find(std::string("verdict ") + (side[0] == '1' ? "A" : "B") + ": " +
                                   limited),
              std::string::npos)
        << compared.output;
  }
}

TEST_F(BatchReportTest, ResumeKeepsTheEarlierRunsEntries) {
  clip("a.mp4", 1);
  clip("b.mp4", 2);
  const auto out = dir_ / "out";
  ASSERT_EQ(run_batch(out, 1).exit_code, 0);
  const auto first = read_json(out / "report/batch.json");
  clip("c.mp4", 3);
  const auto resumed = run_batch(out, 1, "--resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto batch = read_json(out / "report/batch.json");
  EXPECT_EQ(batch["totals"]["skipped"].get<int>(), 2);
  EXPECT_EQ(batch["totals"]["ok"].get<int>(), 1);
  ASSERT_EQ(batch["files"].size(), 3u);
  for (const auto& file : batch["files"]) {
    const auto name = file["relative"].get<std::string>();
    if (name == "c.mp4") {
      EXPECT_EQ(file["status"], "ok");
      EXPECT_FALSE(file.value("from_earlier_run", false));
      EXPECT_EQ(file["frames"].get<std::int64_t>(), frame_count((in_ / name).string()));
      continue;
    }
    const auto earlier = std::find_if(first["files"].begin(), first["files"].end(),
                                      [&](const auto& e) { return e["relative"] == name; });
    ASSERT_NE(earlier, first["files"].end());
    EXPECT_EQ(file["status"], "skipped") << name;
    EXPECT_TRUE(file["from_earlier_run"].get<bool>()) << name;
    EXPECT_EQ(file["earlier_status"], "ok") << name;
    EXPECT_EQ(file["frames"], (*earlier)["frames"]) << name;
    EXPECT_EQ(file["frames"].get<std::int64_t>(), frame_count((in_ / name).string())) << name;
    EXPECT_EQ(file["wall_s"], (*earlier)["wall_s"]) << name;
    EXPECT_TRUE(fs::exists(out / "report" / file["report"].get<std::string>() / "report.json"))
        << name;
  }
  EXPECT_NE(read_text(out / "report/batch.html").find("done by an earlier run: ok"),
            std::string::npos);
  // Resumed once more, with nothing left: the entries stay, still from the earlier run.
  ASSERT_EQ(run_batch(out, 1, "--resume").exit_code, 0);
  const auto again = read_json(out / "report/batch.json");
  EXPECT_EQ(again["totals"]["skipped"].get<int>(), 3);
  for (const auto& file : again["files"]) {
    EXPECT_TRUE(file["from_earlier_run"].get<bool>()) << file["relative"];
    EXPECT_GT(file["frames"].get<int>(), 0) << file["relative"];
  }
}

}  // namespace
}  // namespace framepipe::testing
