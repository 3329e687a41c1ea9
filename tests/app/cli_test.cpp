// The framepipe command line, end to end: the binary run as a user would, checked with ffprobe.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline/registry.h"
#include "stages/register_all.h"
#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;
using reliability::kSourceDir;

using reliability::framepipe;

// 100 frames, 320x240 at 25 fps, H.264.
fs::path clip_320x240_4s() {
  return make_clip("cli-320x240-25fps.mp4",
                   "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 "
                   "-preset ultrafast -pix_fmt yuv420p");
}

std::string ffprobe_frame_rate(const fs::path& path) {
  auto rate = capture(
      "ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate "
      "-of csv=p=0 " +
      shell_quote(path.string()));
  return rate.substr(0, rate.find_first_of("\r\n"));
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) out.push_back(line);
  return out;
}

fs::path write_config(const fs::path& dir, const std::string& yaml) {
  const auto path = dir / "pipeline.yaml";
  std::ofstream(path) << yaml;
  return path;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-cli"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<fs::path> files_in(const fs::path& folder) {
    std::vector<fs::path> files;
    if (!fs::exists(folder)) return files;
    for (const auto& entry : fs::directory_iterator(folder)) files.push_back(entry.path());
    return files;
  }
  fs::path dir_;
};

TEST_F(CliTest, VersionAndHelp) {
  const auto version = framepipe("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, std::string("framepipe ") + FRAMEPIPE_VERSION + "\n");
  const auto help = framepipe("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word : {"run", "validate", "stages", "Exit codes"}) {
    EXPECT_NE(help.output.find(word), std::string::npos) << word;
  }
  const auto run_help = framepipe("run --help");
  EXPECT_NE(run_help.output.find("--set"), std::string::npos);
  EXPECT_EQ(framepipe("frobnicate").exit_code, 2);
}

TEST_F(CliTest, StagesListsEveryTypeWithParameters) {
  const auto listing = framepipe("stages");
  ASSERT_EQ(listing.exit_code, 0);
  Registry registry;
  stages::register_all(registry);
  for (const auto* info : registry.all()) {
    EXPECT_NE(("\n" + listing.output).find("\n" + info->type + "  ("), std::string::npos)
        << info->type;
  }
  const auto resize = framepipe("stages resize");
  EXPECT_NE(resize.output.find("interpolation: "), std::string::npos);
  EXPECT_EQ(resize.output.find("canny"), std::string::npos);
  const auto typo = framepipe("stages resise");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.output.find("did you mean 'resize'"), std::string::npos);
}

TEST_F(CliTest, ValidateAcceptsTheShippedConfigsAndPrintsTheEffectiveOne) {
  for (const char* name : {"default.yaml", "decode-only.yaml", "resize-gray.yaml"}) {
    const auto result =
        framepipe("validate " + shell_quote((kSourceDir / "configs" / name).string()));
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.output;
  }
  const auto effective = framepipe("validate --effective " +
                                   shell_quote((kSourceDir / "configs/default.yaml").string()) +
                                   " --set stages.blur.params.sigma=3.5");
  ASSERT_EQ(effective.exit_code, 0) << effective.output;
  EXPECT_NE(effective.output.find("sigma: 3.5"), std::string::npos);
  EXPECT_NE(effective.output.find("threads: 0"), std::string::npos) << "decode's default shown";
  // The effective config is itself a valid config.
  const auto again = write_config(dir_, effective.output);
  EXPECT_EQ(framepipe("validate " + shell_quote(again.string())).exit_code, 0);
}

TEST_F(CliTest, BadConfigIsExitCodeTwoWithLocatedMessages) {
  const auto config = write_config(dir_, "stages:\n  - {type: decode}\n  - {type: blurr}\n");
  const auto result = framepipe("validate " + shell_quote(config.string()));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find(config.string() + ":3:12: unknown stage type 'blurr'"),
            std::string::npos)
      << result.output;
  const auto bad_set =
      framepipe("run " + shell_quote((kSourceDir / "configs/default.yaml").string()) +
                " --set stages.edges.params.low=abc");
  EXPECT_EQ(bad_set.exit_code, 2);
  EXPECT_NE(bad_set.output.find("--set stages.edges.params.low=abc: stage 'edges' (type canny): "
                                "'low' must be a number"),
            std::string::npos)
      << bad_set.output;
}

TEST_F(CliTest, DefaultConfigRunsAndKeepsFrameCountAndRate) {
  const auto clip = clip_320x240_4s();
  const auto out = dir_ / "out";
  const auto result =
      framepipe("run " + shell_quote((kSourceDir / "configs/default.yaml").string()) + " --input " +
                shell_quote(clip.string()) + " --output " + shell_quote(out.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto video = out / "cli-320x240-25fps-edges.mp4";
  EXPECT_NE(result.output.find("output: " + video.string()), std::string::npos) << result.output;
  ASSERT_TRUE(fs::exists(video));
  EXPECT_EQ(frame_count(video), frame_count(clip));
  EXPECT_EQ(ffprobe_frame_rate(video), ffprobe_frame_rate(clip));
  // The table lists every stage, and report.json holds the same run.
  for (const char* stage : {"decode", "blur", "edges", "video"}) {
    EXPECT_NE(result.output.find(std::string("\n") + stage + " "), std::string::npos) << stage;
  }
  const auto report = read_json(out / "report/report.json");
  EXPECT_EQ(report["frames"].get<int>(), 100);
  EXPECT_EQ(report["stages"].size(), 4u);
  EXPECT_EQ(report["stages"][1]["items"].get<int>(), 100);
  EXPECT_GT(report["stages"][1]["cpu_s"].get<double>(), 0.0);
  for (const char* name : {"report.json", "report.html", "trace.json"}) {
    EXPECT_NE(result.output.find("report: " + (out / "report" / name).string()), std::string::npos)
        << name;
  }
  // `report show` prints the same summary again from the files.
  const auto shown = framepipe("report show " + shell_quote((out / "report").string()));
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_NE(result.output.find(shown.output), std::string::npos) << shown.output;
}

TEST_F(CliTest, StageFailureIsOneLineAndLeavesNoOutput) {
  const auto clip = clip_320x240_4s();
  const auto out = dir_ / "out";
  const auto config = write_config(dir_, R"(output: {dir: unused}
stages:
  - {type: decode}
  - {name: boom, type: fail, params: {at_frame: 50, message: "injected"}}
  - {name: video, type: encode, params: {path: "result.mp4"}}
)");
  const auto result =
      framepipe("run " + shell_quote(config.string()) + " --input " + shell_quote(clip.string()) +
                " --output " + shell_quote(out.string()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(lines(result.output).front(),
            "error: " + clip.string() + ": frame 50: stage 'boom' (fail): injected");
  // No output, final or partial: only the report of the frames before the failure
  // (run_report_test.cpp).
  EXPECT_EQ(files_in(out), std::vector<fs::path>{out / "report"});
}

TEST_F(CliTest, MissingInputIsOneLineNamingTheFile) {
  const auto missing = dir_ / "nope.mp4";
  const auto result = framepipe(
      "run " + shell_quote((kSourceDir / "configs/default.yaml").string()) + " --input " +
      shell_quote(missing.string()) + " --output " + shell_quote((dir_ / "out").string()));
  EXPECT_EQ(result.exit_code, 1);
  const auto output = lines(result.output);
  ASSERT_EQ(output.size(), 1u) << result.output;
  EXPECT_NE(output[0].find(missing.string()), std::string::npos);
  EXPECT_NE(output[0].find("No such file or directory"), std::string::npos);
  EXPECT_TRUE(files_in(dir_ / "out").empty());
}

TEST_F(CliTest, ExistingOutputIsNotOverwrittenUnlessAsked) {
  const auto clip = clip_320x240_4s();
  const auto out = dir_ / "out";
  fs::create_directories(out);
  std::ofstream(out / "keep.mp4") << "precious";
  const auto config = write_config(dir_, R"(stages:
  - {type: decode}
  - {type: encode, params: {path: "keep.mp4"}}
)");
  const auto base = "run " + shell_quote(config.string()) + " --input " +
                    shell_quote(clip.string()) + " --output " + shell_quote(out.string());
  const auto refused = framepipe(base);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("overwrite"), std::string::npos) << refused.output;
  EXPECT_EQ(read_text(out / "keep.mp4"), "precious");
  const auto replaced = framepipe(base + " --set output.overwrite=true");
  EXPECT_EQ(replaced.exit_code, 0) << replaced.output;
  EXPECT_EQ(frame_count(out / "keep.mp4"), 100);
}

TEST_F(CliTest, ReportCompareShowsTwoRunsAndTheKeysThatDiffer) {
  const auto clip = clip_320x240_4s();
  const auto config = shell_quote((kSourceDir / "configs/decode-only.yaml").string());
  for (const char* threads : {"1", "2"}) {
    const auto result = framepipe(
        "run " + config + " --quiet --input " + shell_quote(clip.string()) + " --output " +
        shell_quote((dir_ / threads).string()) + " --set stages.decode.params.threads=" + threads);
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  const auto compared = framepipe("report compare " + shell_quote((dir_ / "1/report").string()) +
                                  " " + shell_quote((dir_ / "2/report").string()));
  EXPECT_EQ(compared.exit_code, 0) << compared.output;
  EXPECT_NE(compared.output.find("stages.decode.params.threads: 1 -> 2"), std::string::npos)
      << compared.output;
  EXPECT_NE(compared.output.find("decode busy_s"), std::string::npos);
  const auto missing = framepipe("report show " + shell_quote((dir_ / "nowhere").string()));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("no report there"), std::string::npos);
}

// Without the profiler nothing is timed, so the table shows only what the engine counts: no
// zero times, classes or advice that would read as measurements.
TEST_F(CliTest, UnprofiledRunShowsCountsWithoutTimes) {
  const auto config = write_config(dir_, "stages:\n  - {type: decode}\n  - {type: discard}\n");
  const auto result = framepipe(
      "run " + shell_quote(config.string()) + " -i " + shell_quote(clip_320x240_4s().string()) +
      " -o " + shell_quote((dir_ / "out").string()) + " --set pipeline.profile=false");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("not profiled (pipeline.profile: false)"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("busy s"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("advice:"), std::string::npos) << result.output;
  const auto frames = capture(
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=nb_read_frames -of csv=p=0 " +
      shell_quote(clip_320x240_4s().string()));
  const auto counted = std::stoll(frames);
  bool discard_row = false;
  for (const auto& row : lines(result.output)) {
    std::istringstream fields(row);
    std::string name, type, concurrency;
    long long items = -1;
    if (fields >> name >> type >> concurrency >> items && type == "discard") {
      discard_row = true;
      EXPECT_EQ(items, counted) << row;
    }
  }
  EXPECT_TRUE(discard_row) << result.output;
}

TEST_F(CliTest, NoInputAnywhereIsAUsageError) {
  const auto config = write_config(dir_, "stages:\n  - {type: decode}\n  - {type: discard}\n");
  const auto result = framepipe("run " + shell_quote(config.string()));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("no input"), std::string::npos);
}

// Standard input is one input, read once: the options that split or resume a batch of files
// are refused before anything is read.
TEST_F(CliTest, StandardInputRefusesBatchOptions) {
  const auto config = shell_quote((kSourceDir / "configs/default.yaml").string());
  for (const std::string option : {"--resume", "--shard 0/2", "--input-list list.txt"}) {
    SCOPED_TRACE(option);
    const auto result =
        framepipe("run " + config + " -i - -o " + shell_quote((dir_ / "out").string()) + " " +
                  option + " < /dev/null");
    EXPECT_EQ(result.exit_code, 2) << result.output;
    const auto name = option.substr(0, option.find(' '));
    EXPECT_NE(
        result.output.find("-: standard input is one input, read once; " + name + " needs files"),
        std::string::npos)
        << result.output;
    EXPECT_FALSE(fs::exists(dir_ / "out"));
  }
}

}  // namespace
}  // namespace framepipe::testing
