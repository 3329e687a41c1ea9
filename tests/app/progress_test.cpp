// `framepipe run`'s progress: the --progress JSON Lines of a single run and of a batch, checked
// against ffprobe's frame counts, the report the run wrote and the clock; the batch ETA against
// the time the batch really took. The stages sleep a known time per frame, so the load on the
// machine's cores hardly changes how long a run takes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline/batch.h"
#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using reliability::kBinary;
using reliability::lines_of;
using reliability::write_file;

// 150 frames, 96x64 at 25 fps: 6 s of media.
fs::path clip_150f() {
  return make_clip("progress-96x64-150f.mp4",
                   "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 150 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

// 40 frames, 96x64 at 25 fps.
fs::path clip_40f() {
  return make_clip("progress-96x64-40f.mp4",
                   "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 40 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

std::vector<nlohmann::json> json_lines(const fs::path& path) {
  std::vector<nlohmann::json> objects;
  for (const auto& line : lines_of(read_text(path))) objects.push_back(nlohmann::json::parse(line));
  return objects;
}

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-progress"); }
  void TearDown() override { fs::remove_all(dir_); }

  // decode -> sleep `ms` per frame -> discard.
  fs::path sleep_config(int ms) {
    return write_file(dir_ / "sleep.yaml",
                      "stages:\n"
                      "  - {type: decode}\n"
                      "  - {name: wait, type: sleep, params: {ms: " +
                          std::to_string(ms) +
                          "}}\n"
                          "  - {type: discard}\n");
  }

  CommandResult framepipe(const std::string& args) {
    return run_shell(shell_quote(kBinary) + " " + args);
  }

  fs::path dir_;
};

// Every line is an object; frames and elapsed time never go back; the last says "end" with the
// status, and its frames are the report's and ffprobe's count. Expected frames and the speed
// come from the container (150 frames at 25 fps), and stderr, not a terminal, gets a plain
// "progress:" line every 5 s.
TEST_F(ProgressTest, SingleRunJsonLinesAreMonotonicAndEndWithTheReportsFrames) {
  const auto clip = clip_150f();
  const auto progress = dir_ / "progress.jsonl";
  const auto out = dir_ / "out";
  const auto result = framepipe("run " + shell_quote(sleep_config(40).string()) + " -i " +
                                shell_quote(clip.string()) + " -o " + shell_quote(out.string()) +
                                " --progress " + shell_quote(progress.string()) + " 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto lines = json_lines(progress);
  ASSERT_GE(lines.size(), 5u) << "a 6 s run writes about two lines a second";
  const auto expected = frame_count(clip.string());
  ASSERT_EQ(expected, 150);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i) + ": " + lines[i].dump());
    const auto& line = lines[i];
    EXPECT_EQ(line["state"], i + 1 == lines.size() ? "end" : "running");
    EXPECT_EQ(line["expected_frames"], expected);
    if (i == 0) continue;
    EXPECT_GE(line["frames"].get<std::int64_t>(), lines[i - 1]["frames"].get<std::int64_t>());
    EXPECT_GT(line["elapsed_s"].get<double>(), lines[i - 1]["elapsed_s"].get<double>());
    // Speed is media seconds (frames / 25 fps) per second.
    const double media_s = line["frames"].get<double>() / 25.0;
    EXPECT_NEAR(line["speed"].get<double>(), media_s / line["elapsed_s"].get<double>(), 1e-6);
    EXPECT_NEAR(line["percent"].get<double>(), 100.0 * line["frames"].get<double>() / 150, 1e-6);
    if (line["state"] == "running") {
      EXPECT_TRUE(line["eta_s"].is_number());
    }
  }
  const auto& end = lines.back();
  EXPECT_EQ(end["status"], "ok");
  EXPECT_EQ(end["frames"], expected);
  EXPECT_EQ(end["percent"], 100.0);
  EXPECT_EQ(read_json(out / "report/report.json")["frames"], end["frames"]);
  // The end is written when the run ends: its elapsed time is the run's, give or take the
  // moment between the two clocks' readings.
  EXPECT_NEAR(end["elapsed_s"].get<double>(),
              read_json(out / "report/report.json")["wall_s"].get<double>(), 0.25);
  int plain_lines = 0;
  for (const auto& line : lines_of(result.output)) {
    if (line.starts_with("progress: frame ")) {
      ++plain_lines;
      EXPECT_NE(line.find("/150 ("), std::string::npos) << line;
      EXPECT_NE(line.find(" fps, elapsed 0:0"), std::string::npos) << line;
    }
  }
  EXPECT_GE(plain_lines, 1) << result.output;
}

// `--progress -`: standard output carries only the JSON Lines; what the run prints there
// otherwise (the summary, output and report paths) goes to stderr.
TEST_F(ProgressTest, ProgressOnStandardOutputKeepsItJsonLines) {
  const auto out = dir_ / "out";
  const auto stdout_file = dir_ / "stdout.txt";
  const auto stderr_file = dir_ / "stderr.txt";
  // In a subshell: run_shell adds its own 2>&1 after the command.
  const auto result = run_shell(
      "(" + shell_quote(kBinary) + " run " + shell_quote(sleep_config(5).string()) + " -i " +
      shell_quote(clip_40f().string()) + " -o " + shell_quote(out.string()) + " --progress - > " +
      shell_quote(stdout_file.string()) + " 2> " + shell_quote(stderr_file.string()) + ")");
  ASSERT_EQ(result.exit_code, 0) << read_text(stderr_file);
  const auto lines = json_lines(stdout_file);  // throws on a line that is not JSON
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["state"], "end");
  EXPECT_EQ(lines.back()["frames"], 40);
  const auto moved = read_text(stderr_file);
  EXPECT_NE(moved.find("report: " + (out / "report/report.json").string()), std::string::npos)
      << moved;
  EXPECT_NE(moved.find("40 frames in "), std::string::npos) << moved;
}

// A progress file that cannot be written stops the run before anything runs: one line naming
// it and the reason, exit 2, no output folder.
TEST_F(ProgressTest, AProgressFileThatCannotBeOpenedIsAnErrorBeforeTheRun) {
  const auto target = dir_ / "no-such-folder/progress.jsonl";
  const auto out = dir_ / "out";
  const auto result = framepipe(
      "run " + shell_quote(sleep_config(1).string()) + " -i " + shell_quote(clip_40f().string()) +
      " -o " + shell_quote(out.string()) + " --progress " + shell_quote(target.string()) + " 2>&1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(lines_of(result.output),
            std::vector<std::string>{"error: --progress '" + target.string() +
                                     "': cannot open it for writing: No such file or directory"});
  EXPECT_FALSE(fs::exists(out));
}

// A batch of 10 copies of a 40-frame clip, 2 at once, each frame sleeping 50 ms: about 10 s.
// After 10% of the batch, every ETA (until 80%, where the time left is still several of the
// display's half-second ticks) is within 20% of the time the batch really took from then on,
// measured by the same clock as the end line's. Frames never go back, each file's state is
// listed, and the end line's frames are batch.json's.
TEST_F(ProgressTest, BatchEtaAfterTenPercentIsWithinTwentyPercentOfTheTimeLeft) {
  const auto in = dir_ / "in";
  fs::create_directories(in);
  for (int i = 0; i < 10; ++i)
    fs::copy_file(clip_40f(), in / ("clip" + std::to_string(i) + ".mp4"));
  const auto progress = dir_ / "progress.jsonl";
  const auto out = dir_ / "out";
  const auto result = framepipe("run " + shell_quote(sleep_config(50).string()) + " -i " +
                                shell_quote(in.string()) + " -o " + shell_quote(out.string()) +
                                " --set pipeline.files_in_parallel=2 --progress " +
                                shell_quote(progress.string()) + " 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto lines = json_lines(progress);
  ASSERT_GE(lines.size(), 10u);
  const auto& end = lines.back();
  ASSERT_EQ(end["state"], "end");
  const double end_s = end["elapsed_s"].get<double>();
  int checked = 0;
  std::set<std::string> finished;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    SCOPED_TRACE("line " + std::to_string(i) + ": " + line.dump());
    if (i > 0) {
      EXPECT_GE(line["frames"].get<std::int64_t>(), lines[i - 1]["frames"].get<std::int64_t>());
    }
    EXPECT_EQ(line["files"]["total"], 10);
    EXPECT_EQ(line["files"]["running"], line["running"].size());
    for (const auto& file : line["running"]) {
      EXPECT_EQ(file["status"], "running");
      if (!file["expected_frames"].is_null()) {
        EXPECT_EQ(file["expected_frames"], 40);
      }
    }
    for (const auto& file : line["finished"]) {
      EXPECT_EQ(file["status"], "ok");
      EXPECT_EQ(file["frames"], 40);
      EXPECT_TRUE(finished.insert(file["input"].get<std::string>()).second) << "listed twice";
    }
    const double percent = line["percent"].get<double>();
    if (line["state"] != "running" || percent < 10 || percent > 80) continue;
    ASSERT_TRUE(line["eta_s"].is_number());
    const double left = end_s - line["elapsed_s"].get<double>();
    EXPECT_NEAR(line["eta_s"].get<double>(), left, 0.2 * left);
    ++checked;
  }
  EXPECT_GE(checked, 8) << "too few lines between 10% and 80% to judge the ETA";
  EXPECT_EQ(finished.size(), 10u);
  const auto batch = read_json(out / "report/batch.json");
  EXPECT_EQ(end["frames"], batch["totals"]["frames"]);
  EXPECT_EQ(end["frames"], 10 * frame_count(clip_40f().string()));
  EXPECT_EQ(end["status"], "ok");
  // Stderr is not a terminal: plain lines every 5 s, with the batch's ETA.
  bool plain_line = false;
  for (const auto& line : lines_of(result.output)) {
    if (line.starts_with("progress: files ")) {
      plain_line = true;
      EXPECT_NE(line.find(", ETA "), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(plain_line) << result.output;
}

// Each ended file is in one snapshot's finished_files, the one after it ended; a progress that
// does not list them (nothing takes snapshots) still counts them, and keeps none.
TEST(BatchProgressTest, EachEndedFileIsHandedOverOnceAndNoneKeptWhenNotListed) {
  const auto ten_bytes = [] { return std::uintmax_t{10}; };
  FileOutcome outcome;
  outcome.input = {"/in/a.jpg", "a.jpg"};
  outcome.status = "ok";
  outcome.frames = 1;
  for (const bool listed : {true, false}) {
    SCOPED_TRACE(listed ? "listed" : "not listed");
    BatchProgress progress(listed);
    progress.set_totals(3, 30);
    progress.ended(nullptr, outcome, ten_bytes);
    const auto first = progress.snapshot();
    EXPECT_EQ(first.finished, 1);
    ASSERT_EQ(first.finished_files.size(), listed ? 1u : 0u);
    auto failed = outcome;
    failed.input.path = "/in/b.jpg";
    failed.status = "failed";
    progress.ended(nullptr, failed, ten_bytes);
    const auto second = progress.snapshot();
    EXPECT_EQ(second.finished, 2);
    EXPECT_EQ(second.failed, 1);
    EXPECT_EQ(second.frames, 2);
    EXPECT_EQ(second.bytes_finished, 20u);
    ASSERT_EQ(second.finished_files.size(), listed ? 1u : 0u);
    if (listed) {
      EXPECT_EQ(first.finished_files[0].input, "/in/a.jpg");
      EXPECT_EQ(second.finished_files[0].input, "/in/b.jpg");
      EXPECT_EQ(second.finished_files[0].status, "failed");
    }
    EXPECT_TRUE(progress.snapshot().finished_files.empty());
  }
}

}  // namespace
}  // namespace framepipe::testing
