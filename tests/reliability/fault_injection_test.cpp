// Faults injected from outside and inside: random stage failures, a filesystem that fills up, a
// corrupt model, an output folder that cannot be made, an input that disappears mid-batch. Each
// ends in a clear one-line error naming the file, with nothing half-written at a final path.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "pipeline/config.h"
#include "pipeline/run.h"
#include "stages/register_all.h"
#include "tests/reliability/cli_helpers.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing::reliability {
namespace {

using namespace std::chrono_literals;

// The frames of 0..count-1 on which a fail stage built from `yaml` throws.
std::set<std::int64_t> failing_frames(const std::string& yaml, int count) {
  StageHarness harness(yaml);
  std::set<std::int64_t> failed;
  for (int i = 0; i < count; ++i) {
    try {
      harness.push(make_frame(cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(0)), i));
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "injected failure");
      failed.insert(i);
    }
  }
  return failed;
}

TEST(FailStage, ProbabilityIsReproducibleFromTheSeed) {
  const auto a = failing_frames("{type: fail, params: {probability: 0.1, seed: 7}}", 2000);
  EXPECT_EQ(a, failing_frames("{type: fail, params: {probability: 0.1, seed: 7}}", 2000));
  EXPECT_NE(a, failing_frames("{type: fail, params: {probability: 0.1, seed: 8}}", 2000));
  // About 200 of 2000; the bounds are far outside what a fair draw gives (sd ~ 13).
  EXPECT_GT(a.size(), 120u);
  EXPECT_LT(a.size(), 280u);
  EXPECT_EQ(failing_frames("{type: fail, params: {probability: 1}}", 50).size(), 50u);
  EXPECT_EQ(failing_frames("{type: fail, params: {at_frame: 3}}", 50), std::set<std::int64_t>{3});
  const auto both = failing_frames("{type: fail, params: {at_frame: 3, probability: 0.1}}", 200);
  EXPECT_TRUE(both.contains(3));
  EXPECT_GT(both.size(), 1u);
}

TEST(FailStage, ThatNeverFailsIsAConfigError) {
  Registry registry;
  stages::register_all(registry);
  try {
    load_stage_text("{type: fail}", registry);
    FAIL() << "a fail stage with neither at_frame nor probability was accepted";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_NE(error.problems()[0].find("'at_frame' or 'probability'"), std::string::npos)
        << error.problems()[0];
  }
}

// A random failure in a parallel stage stops the run at one of the frames the seed picks, and
// the encoder leaves nothing behind.
TEST(FailStage, RandomFailureInARunLeavesNoOutput) {
  const auto dir = make_temp_dir("framepipe-fail");
  Registry registry;
  stages::register_all(registry);
  const auto config = load_config_text(
      "pipeline: {threads: 2}\n"
      "input: " +
          small_clip().string() + "\noutput: {dir: " + (dir / "out").string() +
          "}\n"
          "stages:\n"
          "  - {type: decode}\n"
          "  - {type: fail, concurrency: unlimited, params: {probability: 0.3, seed: 11}}\n"
          "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n",
      "fail.yaml", {}, registry);
  const auto failing = failing_frames("{type: fail, params: {probability: 0.3, seed: 11}}", 10);
  ASSERT_FALSE(failing.empty());
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto result = run_pipeline(config);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error->stage, "fail");
    EXPECT_TRUE(failing.contains(result.error->frame)) << result.error->to_string();
    EXPECT_TRUE(files_under(dir / "out").empty());
  }
  fs::remove_all(dir);
}

class FaultTest : public FoldersTest {
 protected:
  FaultTest() : FoldersTest("framepipe-faults") {}

  CommandResult framepipe(const std::string& args) {
    return run_shell(shell_quote(kBinary) + " " + args);
  }
};

// RLIMIT_FSIZE caps every file the process writes: the output of the one big clip cannot be
// written (EFBIG, with SIGXFSZ ignored), the small clips' outputs and reports can.
TEST_F(FaultTest, FullFilesystemFailsThatFileAloneWithNoPartialOutput) {
  const auto big = make_clip("reliability-noise-320x240-40f.mp4",
                             "-f lavfi -i 'nullsrc=s=320x240:r=25,geq=random(1)*255:128:128' "
                             "-frames:v 40 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
  fs::copy_file(big, in_ / "big.mp4");
  for (const char* name : {"a.mp4", "b.mp4", "c.mp4"}) fs::copy_file(tiny_clip(), in_ / name);
  // ffv1 is lossless: the noise clip needs ~110 KB a frame, the tiny ones a few KB in all.
  const auto config = write_file(dir_ / "ffv1.yaml",
                                 "pipeline: {files_in_parallel: 2}\n"
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: encode, params: {codec: ffv1, pix_fmt: yuv420p, "
                                 "path: \"{stem}.mkv\"}}\n");
  const auto result = run_shell("prlimit --fsize=1000000 " + shell_quote(kBinary) + " run " +
                                shell_quote(config.string()) + " -i " + shell_quote(in_.string()) +
                                " -o " + shell_quote(out_.string()) + " -q");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["ok"], 3) << result.output;
  EXPECT_EQ(batch["totals"]["failed"], 1) << result.output;
  EXPECT_FALSE(fs::exists(out_ / "big.mkv"));
  for (const char* name : {"a.mkv", "b.mkv", "c.mkv"}) {
    ASSERT_TRUE(fs::exists(out_ / name)) << name;
    EXPECT_EQ(frame_count(out_ / name), 3) << name;
  }
  EXPECT_TRUE(hidden_leftovers(out_).empty());
  // One error line, naming the file and the cause.
  std::vector<std::string> errors;
  for (const auto& line : lines_of(result.output)) {
    if (line.starts_with("error:")) errors.push_back(line);
  }
  ASSERT_EQ(errors.size(), 1u) << result.output;
  const auto& error = errors[0];
  EXPECT_TRUE(error.starts_with("error: " + (in_ / "big.mp4").string() + ": ")) << error;
  EXPECT_NE(error.find("File too large"), std::string::npos) << error;
}

TEST_F(FaultTest, CorruptModelAndCascadeAreOneLineConfigErrors) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  const auto model = write_file(dir_ / "model.onnx", std::string(4096, '\x5a'));
  const auto cascade = write_file(dir_ / "cascade.xml",
                                  "<?xml version=\"1.0\"?>\n<opencv_storage><cascade>"
                                  "<stageType>BOOST</stageType>\x01\x02 truncated");
  struct Case {
    std::string stage;
    fs::path file;
  };
  for (const auto& [stage, file] :
       {Case{"{type: dnn, params: {model: " + model.string() + "}}", model},
        Case{"{type: detect_faces, params: {cascade: " + cascade.string() + "}}", cascade}}) {
    const auto config =
        write_file(dir_ / "model.yaml", "stages:\n  - {type: decode}\n  - " + stage +
                                            "\n  - {type: write_detections}\n");
    const auto result =
        framepipe("run " + shell_quote(config.string()) + " -i " +
                  shell_quote((in_ / "clip.mp4").string()) + " -o " + shell_quote(out_.string()));
    EXPECT_EQ(result.exit_code, 2) << result.output;
    const auto lines = lines_of(result.output);
    ASSERT_EQ(lines.size(), 1u) << result.output;
    EXPECT_TRUE(lines[0].starts_with("error: " + config.string() + ":")) << lines[0];
    EXPECT_NE(lines[0].find("'" + file.string() + "'"), std::string::npos) << lines[0];
    EXPECT_FALSE(fs::exists(out_)) << "nothing ran";
  }
}

// Tests run as root, which writes through any permission bits; a folder that cannot be created
// because a regular file sits where its parent should be fails for root too.
TEST_F(FaultTest, OutputFolderThatCannotBeMadeIsAClearError) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  const auto blocker = write_file(dir_ / "somefile", "a file, not a folder\n");
  // Every sink that makes folders, by stage name.
  const std::map<std::string, std::string> sinks = {
      {"encode", "{type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}"},
      {"write_images", "{type: write_images, params: {every: 5, path: \"{stem}/{frame}.png\"}}"},
      {"write_detections", "{type: write_detections, params: {path: \"{stem}.jsonl\"}}"},
      {"write_detections_db", "{type: write_detections_db, params: {path: d.sqlite}}"},
      {"contact_sheet", "{type: contact_sheet, params: {path: \"{stem}.jpg\"}}"}};
  for (const auto& [stage, entry] : sinks) {
    const auto config =
        write_file(dir_ / "p.yaml", "stages:\n  - {type: decode}\n  - " + entry + "\n");
    const auto result = framepipe(
        "run " + shell_quote(config.string()) + " -i " + shell_quote((in_ / "clip.mp4").string()) +
        " -o " + shell_quote((blocker / "sub").string()) + " --set report.formats=[]");
    EXPECT_EQ(result.exit_code, 1) << result.output;
    const auto lines = lines_of(result.output);
    ASSERT_EQ(lines.size(), 1u) << result.output;
    EXPECT_TRUE(lines[0].starts_with("error: " + (in_ / "clip.mp4").string() + ": ")) << lines[0];
    EXPECT_NE(lines[0].find("stage '" + stage + "'"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("cannot create the output folder '" + (blocker / "sub").string()),
              std::string::npos)
        << lines[0];
    EXPECT_NE(lines[0].find("': Not a directory"), std::string::npos) << lines[0];
    EXPECT_EQ(files_under(dir_),
              (std::vector<fs::path>{in_ / "clip.mp4", dir_ / "p.yaml", blocker}))
        << stage;
  }
}

TEST_F(FaultTest, InputThatDisappearsMidBatchFailsAloneWithItsName) {
  add_clips(6);
  // 30 ms a frame: each file takes about 0.3 s, one at a time, in name order.
  const auto config = write_file(dir_ / "slow.yaml",
                                 "pipeline: {files_in_parallel: 1}\n"
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: sleep, params: {ms: 30}}\n"
                                 "  - {type: encode, params: {codec: mpeg4, path: "
                                 "\"{stem}.avi\"}}\n");
  const auto stderr_file = dir_ / "stderr.txt";
  const pid_t pid = spawn_framepipe(
      {"run", config.string(), "-i", in_.string(), "-o", out_.string(), "-q"}, stderr_file);
  ASSERT_GT(pid, 0);
  const auto manifest = out_ / ".framepipe-manifest.json";
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(manifest) && !read_json(manifest)["files"].empty())) {
    std::this_thread::sleep_for(10ms);
  }
  const auto gone = in_ / "clip5.mp4";
  fs::remove(gone);
  const auto code = wait_bounded(pid, 120s);
  ASSERT_TRUE(code.has_value()) << "framepipe did not finish";
  EXPECT_EQ(*code, 1);
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["ok"], 5);
  EXPECT_EQ(batch["totals"]["failed"], 1);
  EXPECT_EQ(batch["files"][5]["status"], "failed");
  EXPECT_FALSE(fs::exists(out_ / "clip5.avi"));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(fs::exists(out_ / ("clip" + std::to_string(i) + ".avi")));
  const std::string errors = read_text(stderr_file);
  const auto lines = lines_of(errors);
  ASSERT_EQ(lines.size(), 1u) << errors;
  EXPECT_TRUE(lines[0].starts_with("error: " + gone.string() + ": ")) << lines[0];
  EXPECT_NE(lines[0].find("No such file"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace framepipe::testing::reliability
