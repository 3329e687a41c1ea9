// `run --frames / --start / --duration / --sample-files`: a run over part of its input, checked
// against ffprobe's count of the frames written and the report's.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using reliability::kBinary;
using reliability::write_file;

// 2 s at 25 fps, 50 frames, a keyframe every 10.
fs::path two_second_clip() {
  return make_clip("window-160x120-50f.mp4",
                   "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -c:v libx264 -g 10 "
                   "-preset ultrafast -pix_fmt yuv420p");
}

class WindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("window");
    config_ = write_file(dir_ / "copy.yaml",
                         "stages:\n"
                         "  - {name: decode, type: decode}\n"
                         "  - {name: video, type: encode, params: {path: '{stem}-out.mkv', "
                         "codec: ffv1}}\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  CommandResult run(const std::string& input, const std::string& args, const fs::path& out) {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote(config_.string()) + " -q -i " +
                     shell_quote(input) + " -o " + shell_quote(out.string()) + " " + args +
                     " 2>&1");
  }

  fs::path dir_;
  fs::path config_;
};

TEST_F(WindowTest, FramesCapsEachInputAndTheRunIsNotCountedDamaged) {
  const auto out = dir_ / "frames";
  const auto result = run(two_second_clip().string(), "--frames 7", out);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(frame_count((out / "window-160x120-50f-out.mkv").string()), 7);
  const auto report = read_json(out / "report" / "report.json");
  EXPECT_EQ(report["frames"], 7);
  EXPECT_EQ(report["status"], "ok");
  EXPECT_EQ(report["config"]["input"]["frames"], 7);
}

TEST_F(WindowTest, StartAndDurationTakeTheFramesOfThatStretch) {
  const auto out = dir_ / "stretch";
  const auto result = run(two_second_clip().string(), "--start 0:00.9 --duration 0.6", out);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto output = out / "window-160x120-50f-out.mkv";
  // Frames at 0.92, 0.96, ... 1.48 s: 15 of them (seeking went to the keyframe at 0.8 s and
  // decoding dropped the frames before 0.9 s).
  EXPECT_EQ(frame_count(output.string()), 15);
  const auto first = capture(
      "ffprobe -v error -select_streams v -show_entries frame=pts_time "
      "-read_intervals %+#1 -of csv=p=0 " +
      shell_quote(output.string()));
  EXPECT_NEAR(std::stod(first), 0.92, 0.001) << first;
  const auto report = read_json(out / "report" / "report.json");
  EXPECT_EQ(report["frames"], 15);
  EXPECT_EQ(report["status"], "ok");
}

TEST_F(WindowTest, SampleFilesRunsThatManyFilesSpreadOverTheFolder) {
  const auto folder = dir_ / "in";
  fs::create_directories(folder);
  for (int i = 0; i < 5; ++i)
    fs::copy_file(two_second_clip(), folder / ("c" + std::to_string(i) + ".mp4"));
  const auto out = dir_ / "sample";
  const auto result = run(folder.string(), "--sample-files 2 --frames 2", out);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto batch = read_json(out / "report" / "batch.json");
  ASSERT_EQ(batch["files"].size(), 2u);
  // The middle file of each half of c0..c4: c1 and c3.
  std::vector<std::string> names;
  for (const auto& file : batch["files"]) names.push_back(file["relative"]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"c1.mp4", "c3.mp4"}));
  EXPECT_EQ(batch["totals"]["frames"], 4);
}

TEST_F(WindowTest, AWindowedRunDoesNotCountAsDoneForAWholeResume) {
  const auto folder = dir_ / "in";
  fs::create_directories(folder);
  fs::copy_file(two_second_clip(), folder / "a.mp4");
  const auto out = dir_ / "resume";
  ASSERT_EQ(run(folder.string(), "--frames 3", out).exit_code, 0);
  const auto whole = run(folder.string(), "--resume --set output.overwrite=true", out);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const auto batch = read_json(out / "report" / "batch.json");
  EXPECT_EQ(batch["totals"]["skipped"], 0);
  EXPECT_EQ(batch["totals"]["frames"], 50);
}

TEST_F(WindowTest, ABadTimeIsOneLineNamingTheOption) {
  const auto result = run(two_second_clip().string(), "--start 1:x", dir_ / "bad");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("--start: '1:x' is not a time"), std::string::npos) << result.output;
  const auto negative = run(two_second_clip().string(), "--duration=-3", dir_ / "bad");
  EXPECT_EQ(negative.exit_code, 2) << negative.output;
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

}  // namespace
}  // namespace framepipe::testing
