// A beginner's mistakes in a config, as the command line answers them: each refused by `validate`
// and by `run` before anything is written, with one line naming the place and the cause; a
// setting that cannot take effect is a warning in both, and the run goes on.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;

using reliability::framepipe;

fs::path clip_160x120_1s() {
  return make_clip("config-errors-160x120.mp4",
                   "-f lavfi -i testsrc2=size=160x120:rate=25:duration=1 -c:v libx264 "
                   "-preset ultrafast -pix_fmt yuv420p");
}

// Bytes below 0x20 other than the line breaks, and DEL: what a message must never print raw.
bool has_control_bytes(const std::string& text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n') || byte == 0x7f) return true;
  }
  return false;
}

class ConfigErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-config-errors"); }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_config(const std::string& yaml) {
    const auto path = dir_ / "pipeline.yaml";
    std::ofstream(path) << yaml;
    return path;
  }

  // `run` of `config` on the small clip into dir_/out.
  CommandResult run(const fs::path& config, const std::string& extra = "") {
    return framepipe("run " + shell_quote(config.string()) + " --input " +
                     shell_quote(clip_160x120_1s().string()) + " --output " +
                     shell_quote(out().string()) + " " + extra);
  }

  // Both commands refuse `config` with `expected` in their output, and the run wrote nothing.
  void expect_refused(const fs::path& config, const std::string& expected,
                      const std::string& extra = "") {
    const auto validated = framepipe("validate " + shell_quote(config.string()) + " " + extra);
    EXPECT_EQ(validated.exit_code, 2) << validated.output;
    EXPECT_NE(validated.output.find("error: " + expected), std::string::npos) << validated.output;
    const auto ran = run(config, extra);
    EXPECT_EQ(ran.exit_code, 2) << ran.output;
    EXPECT_NE(ran.output.find("error: " + expected), std::string::npos) << ran.output;
    EXPECT_FALSE(fs::exists(out())) << "nothing written, not even the output folder";
  }

  fs::path out() const { return dir_ / "out"; }
  fs::path dir_;
};

TEST_F(ConfigErrorsTest, AVideoGivenAsTheConfigIsNamedAsOne) {
  const auto clip = clip_160x120_1s();
  expect_refused(clip, clip.string() +
                           ": that looks like a video (MP4/MOV), not a YAML config: did you mean "
                           "--input " +
                           clip.string() + "?");
  const auto ran = run(clip);
  EXPECT_FALSE(has_control_bytes(ran.output)) << ran.output;
  EXPECT_EQ(ran.output.find("YAML syntax"), std::string::npos) << ran.output;

  // Matroska, a PNG image and a file of NUL bytes, each made by a tool that knows the format.
  const auto mkv = dir_ / "clip.mkv";
  capture("ffmpeg -v error -y -i " + shell_quote(clip.string()) + " -c copy " +
          shell_quote(mkv.string()));
  expect_refused(mkv,
                 mkv.string() + ": that looks like a video (Matroska/WebM), not a YAML config");
  const auto png = dir_ / "frame.png";
  capture("ffmpeg -v error -y -i " + shell_quote(clip.string()) + " -frames:v 1 " +
          shell_quote(png.string()));
  expect_refused(png, png.string() +
                          ": that looks like an image (PNG), not a YAML config: did "
                          "you mean --input " +
                          png.string() + "?");
  const auto binary = dir_ / "zeros.bin";
  capture("head -c 64 /dev/zero > " + shell_quote(binary.string()));
  expect_refused(binary,
                 binary.string() + ": not a YAML config: a binary file (it holds NUL bytes)");
  EXPECT_FALSE(has_control_bytes(run(binary).output));
}

TEST_F(ConfigErrorsTest, AnUnknownPlaceholderWritesNoFileNamedAfterIt) {
  const auto config = write_config(
      "stages:\n  - {type: decode}\n  - {name: video, type: encode, params: {path: "
      "\"{stm}.mp4\"}}\n");
  expect_refused(config, config.string() +
                             ":3:48: stage 'video' (type encode): 'path' (\"{stm}.mp4\") has an "
                             "unknown placeholder {stm} (did you mean '{stem}'?); placeholders: "
                             "{stem}, {ext}, {stage}");
}

TEST_F(ConfigErrorsTest, ABadEncoderPresetFailsBeforeTheFirstFrame) {
  const auto config = write_config(
      "stages:\n  - {type: decode}\n  - {name: video, type: encode, params: {preset: "
      "superfast2}}\n");
  expect_refused(config, config.string() +
                             ":3:50: stage 'video' (type encode): 'preset': encoder 'libx264' has "
                             "no preset 'superfast2' (did you mean 'superfast'?); presets: "
                             "ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, "
                             "veryslow, placebo");
}

TEST_F(ConfigErrorsTest, EveryProblemAtOnceEachAtItsPlace) {
  const auto config = write_config(
      "stages:\n"
      "  - {type: resize, params: {width: 0}}\n"
      "  - {name: blur, type: gaussian_blur, input: resise}\n"
      "  - {type: discard}\n");
  const auto result =
      framepipe("validate " + shell_quote(config.string()) + " --set stages.blurr.params.sigma=3");
  EXPECT_EQ(result.exit_code, 2);
  const auto at = config.string();
  EXPECT_EQ(result.output,
            "error: " + at +
                ":2:5: stage 'resize' (type resize): the first stage must be a source (type: "
                "decode)\n"
                "error: " +
                at +
                ":2:36: stage 'resize' (type resize): 'width' must be an integer in [1, 16384], "
                "got '0'\n"
                "error: " +
                at +
                ":3:46: stage 'blur' (type gaussian_blur): input 'resise' is not a stage listed "
                "before this one (did you mean 'resize'?); stages before it: resize\n"
                "error: --set stages.blurr.params.sigma=3: no stage named 'blurr' (did you mean "
                "'blur'?); stages: resize, blur, discard\n");
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(ConfigErrorsTest, SettingsThatCannotTakeEffectWarnInValidateAndAtTheStartOfRun) {
  const int cores = affinity_cores();
  const auto config = write_config("pipeline: {threads: " + std::to_string(cores + 1) +
                                   "}\nstages:\n  - {type: decode}\n"
                                   "  - {name: blur, type: gaussian_blur}\n  - {type: discard}\n");
  const std::string set = "--set stages.blur.concurrency=" + std::to_string(cores + 2);
  const std::string warnings =
      "warning: " + config.string() + ":1:21: pipeline.threads is " + std::to_string(cores + 1) +
      " but this machine has " + std::to_string(cores) + " cores, and oneTBB runs at most " +
      std::to_string(cores) +
      " threads at once: the rest cannot take effect (0 uses every core)\n"
      "warning: " +
      set + ": stage 'blur' (type gaussian_blur): concurrency " + std::to_string(cores + 2) +
      " cannot take effect: this machine has " + std::to_string(cores) + " cores, so at most " +
      std::to_string(cores) + " of its frames run at once\n";
  const auto validated = framepipe("validate " + shell_quote(config.string()) + " " + set);
  EXPECT_EQ(validated.exit_code, 0) << validated.output;
  EXPECT_EQ(validated.output.rfind(warnings, 0), 0u) << validated.output;
  const auto ran = run(config, set + " --quiet");
  EXPECT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_EQ(ran.output.rfind(warnings, 0), 0u) << "first, before the run: " << ran.output;
}

}  // namespace
}  // namespace framepipe::testing
