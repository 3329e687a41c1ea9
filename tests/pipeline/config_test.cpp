// Config loading: each bad config gets its own message naming the place and what was expected;
// --set overrides any key; defaults are filled in.
#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <regex>

#include "pipeline/json_text.h"
#include "pipeline/manifest.h"
#include "pipeline/settings.h"
#include "pipeline/suggest.h"
#include "stages/register_all.h"
#include "tests/support/media.h"

namespace framepipe {
namespace {

using testing::affinity_cores;

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() { stages::register_all(registry_); }

  Config load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    return load_config_text(yaml, "x.yaml", overrides, registry_);
  }

  // The problems a bad config produces; fails the test when it loads.
  std::vector<std::string> problems(const std::string& yaml,
                                    const std::vector<std::string>& overrides = {}) {
    try {
      load(yaml, overrides);
    } catch (const ConfigError& error) {
      return error.problems();
    }
    ADD_FAILURE() << "config was accepted:\n" << yaml;
    return {};
  }

  Registry registry_;
};

const char* kGood = R"(pipeline: {name: demo, threads: 2, max_frames_in_flight: 8}
input: {path: in.mp4}
output: {dir: out}
stages:
  - {name: decode, type: decode}
  - {name: blur, type: gaussian_blur, concurrency: 3, params: {sigma: 1.5}}
  - {name: video, type: encode}
)";

TEST(ConfigSanity, GoodConfigLoadsWithDefaultsFilledIn) {
  Registry registry;
  stages::register_all(registry);
  const auto config = load_config_text(kGood, "x.yaml", {}, registry);
  EXPECT_EQ(config.name, "demo");
  EXPECT_EQ(config.threads, 2);
  EXPECT_EQ(config.max_frames_in_flight, 8);
  EXPECT_EQ(config.input_path, "in.mp4");
  ASSERT_EQ(config.stages.size(), 3u);
  EXPECT_EQ(config.stages[1].input, "decode") << "a stage consumes the one before it";
  EXPECT_EQ(config.stages[1].concurrency.count, 3);
  EXPECT_DOUBLE_EQ(std::get<double>(config.stages[1].params.values().at("sigma")), 1.5);
  EXPECT_EQ(std::get<std::int64_t>(config.stages[1].params.values().at("ksize")), 5)
      << "default filled in";
  EXPECT_EQ(config.stages[2].concurrency.to_string(), "1") << "encode is serial";
}

TEST_F(ConfigTest, SetOverridesNestedKeysAndStageParamsByName) {
  const auto config = load(kGood, {"pipeline.threads=4", "stages.blur.params.sigma=3",
                                   "stages.blur.concurrency=unlimited", "output.overwrite=true"});
  EXPECT_EQ(config.threads, 4);
  EXPECT_DOUBLE_EQ(std::get<double>(config.stages[1].params.values().at("sigma")), 3.0);
  EXPECT_TRUE(config.stages[1].concurrency.unlimited);
  EXPECT_TRUE(config.overwrite);
}

TEST_F(ConfigTest, SetErrorsNameTheOverride) {
  const auto p = problems(kGood, {"stages.blur.params.sigma=-1"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "--set stages.blur.params.sigma=-1: stage 'blur' (type gaussian_blur): 'sigma' must be "
            "a number in [0.01, 100], got '-1'");
  const auto unquoted = problems(kGood, {"stages.video.params.path={stem}-x.mp4"});
  ASSERT_EQ(unquoted.size(), 1u);
  EXPECT_EQ(unquoted[0],
            "--set stages.video.params.path={stem}-x.mp4: stage 'video' (type encode): 'path' "
            "must be a string, got a YAML map (quote a value that starts with { or [, e.g. "
            "\"{stem}.mp4\")");
  const auto quoted = load(kGood, {"stages.video.params.path=\"{stem}-x.mp4\""});
  EXPECT_EQ(std::get<std::string>(quoted.stages[2].params.values().at("path")), "{stem}-x.mp4");
  const auto missing = problems(kGood, {"stages.nope.params.sigma=2"});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0],
            "--set stages.nope.params.sigma=2: no stage named 'nope'; stages: decode, blur, video");
  const auto malformed = problems(kGood, {"pipeline.threads"});
  ASSERT_EQ(malformed.size(), 1u);
  EXPECT_NE(malformed[0].find("expected KEY=VALUE"), std::string::npos);
}

TEST_F(ConfigTest, UnknownTopLevelKeySuggestsTheClosest) {
  const auto p =
      problems("pipelin: {threads: 2}\nstages:\n  - {type: decode}\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "x.yaml:1:1: top level: unknown key 'pipelin' (did you mean 'pipeline'?)");
}

TEST_F(ConfigTest, UnknownStageTypeSuggestsTheClosest) {
  const auto p =
      problems("stages:\n  - {type: decode}\n  - {type: gausian_blur}\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "x.yaml:3:12: unknown stage type 'gausian_blur' (did you mean 'gaussian_blur'?); "
            "`framepipe stages` lists them");
}

TEST_F(ConfigTest, UnknownParameterIsAnErrorNotIgnored) {
  const auto p = problems(
      "stages:\n  - {type: decode}\n  - {name: small, type: resize, params: {widht: 64}}\n"
      "  - {type: discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "x.yaml:3:42: stage 'small' (type resize): unknown parameter 'widht' (did you mean "
            "'width'?); parameters: width, height, interpolation, fit");
}

TEST_F(ConfigTest, WrongTypeNamesExpectation) {
  const auto p = problems(
      "stages:\n  - {type: decode}\n  - {type: resize, params: {width: wide}}\n  - {type: "
      "discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "x.yaml:3:36: stage 'resize' (type resize): 'width' must be an integer in [1, 16384], "
            "got 'wide'");
}

TEST_F(ConfigTest, OutOfRangeAndCrossParameterChecks) {
  const auto p = problems(
      "pipeline: {max_frames_in_flight: 0}\nstages:\n  - {type: decode}\n"
      "  - {type: gaussian_blur, params: {ksize: 4}}\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0],
            "x.yaml:1:34: pipeline: 'max_frames_in_flight' must be an integer in [1, 100000], got "
            "'0'");
  EXPECT_EQ(
      p[1],
      "x.yaml:4:43: stage 'gaussian_blur' (type gaussian_blur): 'ksize' must be odd or 0, got 4");
}

TEST_F(ConfigTest, SerialStageRefusesConcurrency) {
  const auto p = problems("stages:\n  - {type: decode}\n  - {type: encode, concurrency: 4}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "x.yaml:3:33: stage 'encode' (type encode): 'concurrency' must be 1: this stage is "
            "serial_in_order (it keeps state between frames)");
  const auto bad =
      problems("stages:\n  - {type: decode}\n  - {type: discard, concurrency: lots}\n");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0],
            "x.yaml:3:34: stage 'discard' (type discard): 'concurrency' must be an integer in [1, "
            "1024] or 'unlimited', got 'lots'");
}

TEST_F(ConfigTest, GraphShapeErrors) {
  EXPECT_EQ(problems("stages:\n  - {type: resize}\n  - {type: discard}\n"),
            std::vector<std::string>{
                "x.yaml:2:5: stage 'resize' (type resize): the first stage must be a source (type: "
                "decode)"});
  EXPECT_EQ(
      problems(
          "stages:\n  - {type: decode}\n  - {type: resize, input: nowhere}\n  - {type: discard}\n"),
      std::vector<std::string>{
          "x.yaml:3:27: stage 'resize' (type resize): input 'nowhere' is not a stage listed "
          "before this one; stages before it: decode"});
  EXPECT_EQ(
      problems("stages:\n  - {type: decode}\n  - {type: resize}\n"),
      std::vector<std::string>{
          "x.yaml:3:5: the pipeline has no sink: end it with one (type: contact_sheet, discard, "
          "encode, post_events, write_detections, write_detections_db or write_images)"});
  EXPECT_EQ(problems("stages:\n  - {type: decode}\n  - {type: discard}\n  - {type: discard}\n")[0],
            "x.yaml:4:5: duplicate stage name 'discard'; give each stage a unique name");
}

TEST_F(ConfigTest, YamlSyntaxErrorHasLineAndColumn) {
  const auto p = problems("stages:\n  - {type: decode\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rfind("x.yaml:3:", 0), 0u) << p[0];
  EXPECT_NE(p[0].find("YAML syntax error"), std::string::npos);
}

TEST_F(ConfigTest, AllProblemsAreReportedAtOnce) {
  const auto p = problems(
      "pipeline: {threads: -1, colour: red}\nstages:\n  - {type: decode, params: {threads: x}}\n"
      "  - {type: resize, params: {height: 0}}\n  - {type: discard}\n");
  EXPECT_EQ(p.size(), 4u);
}

TEST_F(ConfigTest, MissingFileIsOneClearLine) {
  try {
    load_config_file("no/such/config.yaml", {}, registry_);
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0],
              "cannot read config 'no/such/config.yaml': No such file or directory");
  }
}

TEST_F(ConfigTest, EffectiveYamlRoundTripsToTheSameConfig) {
  const auto config = load(kGood, {"stages.blur.params.ksize=9"});
  const auto again = load(effective_yaml(config));
  ASSERT_EQ(again.stages.size(), config.stages.size());
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    EXPECT_EQ(again.stages[i].name, config.stages[i].name);
    EXPECT_EQ(again.stages[i].input, config.stages[i].input);
    EXPECT_EQ(again.stages[i].params.values(), config.stages[i].params.values());
    EXPECT_EQ(again.stages[i].concurrency.to_string(), config.stages[i].concurrency.to_string());
  }
  EXPECT_EQ(again.threads, config.threads);
  EXPECT_NE(effective_yaml(config).find("ksize: 9"), std::string::npos);
}

TEST_F(ConfigTest, DuplicateKeysAreErrorsNamingBothPlaces) {
  const auto p = problems(
      "pipeline: {threads: 2}\n"
      "output: {dir: a}\n"
      "pipeline: {threads: 4}\n"
      "stages:\n"
      "  - {type: decode}\n"
      "  - {type: resize, params: {width: 64, width: 32}}\n"
      "  - {type: discard}\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], "x.yaml:3:1: duplicate key 'pipeline' (first at x.yaml:1:1); give each key once");
  EXPECT_EQ(p[1], "x.yaml:6:40: duplicate key 'width' (first at x.yaml:6:29); give each key once");
  // With the other problems, in the order of the file.
  EXPECT_EQ(problems("stages:\n  - {type: decode}\n  - {type: resize, params: {width: 0}}\n"
                     "  - {type: discard}\nstages: []\n"),
            (std::vector<std::string>{
                "x.yaml:3:36: stage 'resize' (type resize): 'width' must be an integer in [1, "
                "16384], got '0'",
                "x.yaml:5:1: duplicate key 'stages' (first at x.yaml:1:1); give each key once"}));
}

TEST_F(ConfigTest, AnAliasThatContainsItselfDoesNotHang) {
  // yaml-cpp registers an anchor before its node's children, so this node holds itself.
  const auto p = problems("a: &x [*x]\nstages:\n  - {type: decode}\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("unknown key 'a'"), std::string::npos) << p[0];
}

TEST_F(ConfigTest, AnEmptyOutputFolderIsRefused) {
  const auto p = problems("output: {dir: ''}\nstages:\n  - {type: decode}\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rfind("x.yaml:1:15: output: 'dir' must not be empty; ", 0), 0u) << p[0];
  const auto set =
      problems("stages:\n  - {type: decode}\n  - {type: discard}\n", {"output.dir=\"\""});
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].rfind("--set output.dir=\"\": output: 'dir' must not be empty", 0), 0u)
      << set[0];
}

TEST_F(ConfigTest, ListSettingsCheckEachItem) {
  const auto p = problems(
      "report: {formats: [json, pdf]}\ninput: {include: '*.mp4'}\n"
      "stages:\n  - {type: decode}\n  - {type: discard}\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0],
            "x.yaml:1:26: report: each of 'formats' must be one of: json, html, trace, got 'pdf'");
  EXPECT_EQ(p[1], "x.yaml:2:18: input: 'include' must be a list, e.g. [a, b]");
}

TEST_F(ConfigTest, UnknownPlaceholderInAnOutputNameIsRefusedNamingKeyAndKnownOnes) {
  const auto p = problems(
      "stages:\n  - {type: decode}\n  - {name: video, type: encode, params: {path: "
      "\"{stm}.mp4\"}}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "x.yaml:3:48: stage 'video' (type encode): 'path' (\"{stm}.mp4\") has an unknown "
            "placeholder {stm} (did you mean '{stem}'?); placeholders: {stem}, {ext}, {stage}");
  const auto set = problems(kGood, {"stages.video.params.path=\"{stem}-{size}.mp4\""});
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0],
            "--set stages.video.params.path=\"{stem}-{size}.mp4\": stage 'video' (type encode): "
            "'path' (\"{stem}-{size}.mp4\") has an unknown placeholder {size}; placeholders: "
            "{stem}, {ext}, {stage}");
  const auto unclosed = problems(kGood, {"stages.video.params.path=\"{stem.mp4\""});
  ASSERT_EQ(unclosed.size(), 1u);
  EXPECT_NE(unclosed[0].find("'path' (\"{stem.mp4\") has a '{' that is never closed"),
            std::string::npos)
      << unclosed[0];
  // A stage's own fields are known to it alone: {frame} names write_images' files, not encode's.
  const auto images = problems(
      "stages:\n  - {type: decode}\n  - {name: stills, type: write_images, params: {path: "
      "\"{stem}/{frames:06}.png\"}}\n");
  ASSERT_EQ(images.size(), 2u) << "and write_images' own check: no {frame} in the path";
  EXPECT_NE(images[1].find("has an unknown placeholder {frames:06} (did you mean '{frame}'?); "
                           "placeholders: {stem}, {ext}, {stage}, {frame}"),
            std::string::npos)
      << images[1];
  EXPECT_NE(problems(kGood, {"stages.video.params.path=\"{frame}.mp4\""})[0].find(
                "unknown placeholder {frame};"),
            std::string::npos);
  // The stage checks the fields that are its own.
  const auto spec = problems(
      "stages:\n  - {type: decode}\n  - {type: write_images, params: {path: "
      "\"{stem}/{frame}-{frame:6}.png\"}}\n");
  ASSERT_EQ(spec.size(), 1u);
  EXPECT_NE(spec[0].find("'path' has the field '{frame:6}': write {frame} or {frame:0N} (N = "
                         "1..9)"),
            std::string::npos)
      << spec[0];
  // Every field the engine or the stage fills in passes.
  EXPECT_NO_THROW(load(kGood, {"stages.video.params.path=\"{stage}/{stem}.{ext}.mp4\""}));
  EXPECT_NO_THROW(
      load("stages:\n  - {type: decode}\n  - {type: write_images, params: {path: "
           "\"{stem}/{frame}-{frame:06}.png\"}}\n"));
}

// `ffmpeg -c:v ENCODER -preset PRESET` on one small frame, for the exit code.
int ffmpeg_with_preset(const std::string& encoder, const std::string& preset) {
  return testing::run_shell("ffmpeg -v error -f lavfi -i testsrc2=size=64x64 -frames:v 1 -c:v " +
                            encoder + " -preset " + preset + " -f null -")
      .exit_code;
}

TEST_F(ConfigTest, AnEncoderPresetTheEncoderLacksIsRefusedAtValidation) {
  // The reference: the ffmpeg CLI refuses this preset and takes every one the message lists.
  EXPECT_NE(
      testing::run_shell("ffmpeg -v error -f lavfi -i testsrc2=size=64x64 -frames:v 1 -c:v libx264 "
                         "-preset superfast2 -f null -")
          .exit_code,
      0);
  EXPECT_EQ(
      testing::run_shell("ffmpeg -v error -f lavfi -i testsrc2=size=64x64 -frames:v 1 -c:v libx264 "
                         "-preset placebo -f null -")
          .exit_code,
      0);
  const auto p = problems(
      "stages:\n  - {type: decode}\n  - {name: video, type: encode, params: {preset: "
      "superfast2}}\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "x.yaml:3:50: stage 'video' (type encode): 'preset': encoder 'libx264' has no preset "
            "'superfast2' (did you mean 'superfast'?); presets: ultrafast, superfast, veryfast, "
            "faster, fast, medium, slow, slower, veryslow, placebo");
  for (const char* preset : {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                             "slow", "slower", "veryslow", "placebo"}) {
    EXPECT_EQ(ffmpeg_with_preset("libx264", preset), 0) << preset;
  }
  const auto set = problems(kGood, {"stages.video.params.preset=fastest"});
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].rfind("--set stages.video.params.preset=fastest: stage 'video' (type encode): "
                         "'preset': encoder 'libx264' has no preset 'fastest'",
                         0),
            0u)
      << set[0];
  // x264 also takes a preset's index and ignores the case of its name.
  for (const char* preset : {"placebo", "Medium", "5"}) {
    EXPECT_EQ(ffmpeg_with_preset("libx264", preset), 0) << preset;
    EXPECT_NO_THROW(load(kGood, {std::string("stages.video.params.preset=") + preset})) << preset;
  }
  // An encoder whose preset libav reads as a number: its range, as `ffmpeg -h` declares it.
  const auto help = testing::run_shell("ffmpeg -hide_banner -h encoder=libsvtav1").output;
  std::smatch range;
  if (std::regex_search(help, range, std::regex(R"(-preset +<int>.*\(from (-?\d+) to (\d+)\))"))) {
    EXPECT_NE(ffmpeg_with_preset("libsvtav1", "fast"), 0);
    const auto svt =
        problems(kGood, {"stages.video.params.codec=libsvtav1", "stages.video.params.preset=fast"});
    ASSERT_EQ(svt.size(), 1u);
    EXPECT_EQ(svt[0],
              "--set stages.video.params.preset=fast: stage 'video' (type encode): "
              "'preset': encoder 'libsvtav1' has no preset 'fast'; it takes an integer "
              "from " +
                  range[1].str() + " to " + range[2].str());
    EXPECT_NO_THROW(
        load(kGood, {"stages.video.params.codec=libsvtav1", "stages.video.params.preset=8"}));
  }
  // An encoder without presets ignores the parameter, as the run does.
  EXPECT_NO_THROW(
      load(kGood, {"stages.video.params.codec=mpeg4", "stages.video.params.preset=superfast2"}));
}

TEST_F(ConfigTest, StructureErrorsComeWithFieldErrorsEachAtItsPlace) {
  const auto p = problems(
      "stages:\n"
      "  - {type: resize, params: {width: 0}}\n"
      "  - {name: blur, type: gaussian_blur, input: resise}\n"
      "  - {type: discard, input: later}\n"
      "  - {name: later, type: discard, input: blur}\n");
  EXPECT_EQ(p, (std::vector<std::string>{
                   "x.yaml:2:5: stage 'resize' (type resize): the first stage must be a source "
                   "(type: decode)",
                   "x.yaml:2:36: stage 'resize' (type resize): 'width' must be an integer in [1, "
                   "16384], got '0'",
                   "x.yaml:3:46: stage 'blur' (type gaussian_blur): input 'resise' is not a stage "
                   "listed before this one (did you mean 'resize'?); stages before it: resize",
                   "x.yaml:4:28: stage 'discard' (type discard): input 'later' is not a stage "
                   "listed before this one; list 'later' before it"}));
  // An override that names no stage is reported with the file's problems, with a suggestion.
  const auto set = problems(
      "stages:\n  - {type: decode}\n  - {name: blur, type: gaussian_blur, params: {sigma: 0}}\n"
      "  - {type: discard}\n",
      {"stages.blurr.params.sigma=3"});
  EXPECT_EQ(set, (std::vector<std::string>{
                     "x.yaml:3:55: stage 'blur' (type gaussian_blur): 'sigma' must be a number in "
                     "[0.01, 100], got '0'",
                     "--set stages.blurr.params.sigma=3: no stage named 'blurr' (did you mean "
                     "'blur'?); stages: decode, blur, discard"}));
  // A stage of unknown type still counts as an input, and hides no other problem.
  EXPECT_EQ(problems("stages:\n  - {type: decode}\n  - {name: b, type: smooth}\n"
                     "  - {type: discard, input: b}\n"
                     "  - {name: last, type: discard, input: missing}\n"),
            (std::vector<std::string>{
                "x.yaml:3:21: unknown stage type 'smooth'; `framepipe stages` lists them",
                "x.yaml:5:40: stage 'last' (type discard): input 'missing' is not a stage listed "
                "before this one; stages before it: decode, b, discard"}));
}

// Every check runs whatever the others found: the io threads' with `pipeline` not a map.
TEST_F(ConfigTest, PipelineChecksRunBesideABrokenSection) {
  std::string yaml = "pipeline: 2\nstages:\n  - {type: decode}\n";
  for (int i = 0; i < 5; ++i) {
    yaml += "  - {name: w" + std::to_string(i) +
            ", type: write_images, input: decode, concurrency: 1024}\n";
  }
  const auto p = problems(yaml);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0],
            "x.yaml: pipeline.files_in_parallel (1) x the io stages' concurrency (5120 "
            "threads a file) = 5120 threads, more than 4096: lower one of them");
  EXPECT_EQ(p[1], "x.yaml:1:11: 'pipeline' must be a map of settings");
}

TEST_F(ConfigTest, SettingsThatCannotTakeEffectAreWarningsNotErrors) {
  const std::string yaml =
      "pipeline: {threads: 1}\nstages:\n  - {type: decode}\n"
      "  - {name: people, type: detect_people, concurrency: 4}\n"
      "  - {type: write_images, concurrency: 8}\n";
  const auto config = load(yaml, {"stages.people.concurrency=8"});
  EXPECT_EQ(config.warnings,
            (std::vector<std::string>{
                "--set stages.people.concurrency=8: stage 'people' (type detect_people): "
                "concurrency 8 cannot take effect: pipeline.threads is 1, so at most 1 of its "
                "frames run at once"}))
      << "an io stage's concurrency is threads of its own: no warning for write_images";
  EXPECT_EQ(load(yaml).warnings,
            (std::vector<std::string>{
                "x.yaml:4:54: stage 'people' (type detect_people): concurrency 4 cannot take "
                "effect: pipeline.threads is 1, so at most 1 of its frames run at once"}));
  const int cores = affinity_cores();
  const auto many = load(kGood, {"pipeline.threads=" + std::to_string(cores + 1),
                                 "stages.blur.concurrency=unlimited"});
  EXPECT_EQ(many.warnings,
            (std::vector<std::string>{"--set pipeline.threads=" + std::to_string(cores + 1) +
                                      ": pipeline.threads is " + std::to_string(cores + 1) +
                                      " but this machine has " + std::to_string(cores) +
                                      " cores, and oneTBB runs at most " + std::to_string(cores) +
                                      " threads at once: the rest cannot take effect (0 uses "
                                      "every core)"}));
  EXPECT_EQ(many.threads, cores + 1) << "a warning changes nothing";
  EXPECT_TRUE(load(kGood, {"pipeline.threads=" + std::to_string(cores),
                           "stages.blur.concurrency=" + std::to_string(cores)})
                  .warnings.empty());
}

// The settings table's declared defaults are the ones a Config starts with, and config_json
// (what --effective prints and the resume fingerprint hashes) lists exactly its keys, in the
// order the fingerprints of earlier runs were taken with.
TEST(EngineSettings, TableMatchesConfigDefaultsAndKeys) {
  const auto json = config_json(Config{});
  std::vector<std::string> sections;
  for (const auto& section : engine_settings()) {
    sections.push_back(section.name);
    std::vector<std::string> keys;
    for (const auto& [key, value] : json.at(section.name).items()) keys.push_back(key);
    EXPECT_EQ(keys, section.key_names()) << section.name;
    for (const auto& setting : section.keys) {
      if (setting.list) continue;
      nlohmann::ordered_json declared;
      std::visit([&](const auto& v) { declared = v; }, setting.spec.default_value);
      EXPECT_EQ(declared, json[section.name][setting.spec.name])
          << section.name << "." << setting.spec.name;
      EXPECT_GT(setting.spec.help.size(), 10u) << section.name << "." << setting.spec.name;
    }
  }
  EXPECT_EQ(sections, (std::vector<std::string>{"pipeline", "input", "output", "report"}));
  EXPECT_EQ(json["pipeline"].dump(),
            R"({"name":"pipeline","threads":0,"max_frames_in_flight":16,"profile":true,)"
            R"("files_in_parallel":1,"isolation":"thread","rewrites":true})");
}

// pipeline.isolation changes no output, so it is left out of the --resume fingerprint: a batch
// may switch it and still skip what an earlier run completed, also a run from before the key
// existed (073e86830310f10b is what that release wrote into its manifest for this config).
TEST_F(ConfigTest, IsolationIsNotPartOfTheResumeFingerprint) {
  const std::string yaml =
      "pipeline: {name: demo, threads: 2, max_frames_in_flight: 8}\nstages:\n"
      "  - {type: decode}\n  - {type: gaussian_blur, params: {sigma: 1.5}}\n"
      "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  EXPECT_EQ(config_fingerprint(load(yaml)), "073e86830310f10b");
  EXPECT_EQ(config_fingerprint(load(yaml, {"pipeline.isolation=process"})), "073e86830310f10b");
  EXPECT_EQ(load(yaml, {"pipeline.isolation=process"}).isolation, Isolation::process);
  EXPECT_EQ(problems(yaml, {"pipeline.isolation=fork"}),
            std::vector<std::string>{"--set pipeline.isolation=fork: pipeline: 'isolation' must be "
                                     "one of: thread, process, got 'fork'"});
}

// input.fps (a numbered image sequence's rate) changes the frames' timing, so a set rate is part
// of the fingerprint; left at 0 it keeps the fingerprint of before the key existed.
TEST_F(ConfigTest, SequenceRateChangesTheFingerprintOnlyWhenSet) {
  const std::string yaml =
      "pipeline: {name: demo, threads: 2, max_frames_in_flight: 8}\nstages:\n"
      "  - {type: decode}\n  - {type: gaussian_blur, params: {sigma: 1.5}}\n"
      "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  EXPECT_EQ(config_fingerprint(load(yaml, {"input.fps=0"})), "073e86830310f10b");
  EXPECT_NE(config_fingerprint(load(yaml, {"input.fps=30"})), "073e86830310f10b");
  EXPECT_EQ(load(yaml, {"input.fps=29.97"}).sequence_fps, 29.97);
  EXPECT_FALSE(problems(yaml, {"input.fps=-1"}).empty());
}

// `input.sequence: {pattern, fps}` is input.path and input.fps, said as a sequence; mixing the
// two forms, a pattern that is no pattern, or a key the form lacks is one line each, placed.
TEST_F(ConfigTest, SequenceFormSetsPathAndRateAndRefusesWhatItCannotMean) {
  const std::string stages = "stages:\n  - {type: decode}\n  - {type: discard}\n";
  const auto config =
      load("input: {sequence: {pattern: \"frames/%06d.png\", fps: 12.5}}\n" + stages);
  EXPECT_EQ(config.input_path, "frames/%06d.png");
  EXPECT_EQ(config.sequence_fps, 12.5);
  EXPECT_EQ(load("input: {sequence: {pattern: \"no-such-folder/*.png\"}}\n" + stages).input_path,
            "no-such-folder/*.png");
  EXPECT_EQ(load("input: {sequence: {pattern: \"f/%d.png\"}}\n" + stages, {"input.sequence.fps=30"})
                .sequence_fps,
            30);

  const auto both = problems("input: {path: a.mp4, sequence: {pattern: \"f/%d.png\"}}\n" + stages);
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0],
            "x.yaml:1:15: input: give 'path' or 'sequence', not both ('sequence: {pattern, fps}' "
            "sets input.path and input.fps)");
  const auto plain = problems("input: {sequence: {pattern: photo.png}}\n" + stages);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_NE(plain[0].find("x.yaml:1:29: input.sequence: 'photo.png' is neither a numbered pattern"),
            std::string::npos)
      << plain[0];
  const auto missing = problems("input: {sequence: {fps: 25}}\n" + stages);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("input.sequence: 'pattern' is missing"), std::string::npos)
      << missing[0];
  const auto unknown = problems("input: {sequence: {pattern: \"f/%d.png\", rate: 25}}\n" + stages);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].find("input.sequence: unknown key 'rate'"), std::string::npos) << unknown[0];
  EXPECT_EQ(problems("input: {sequence: {pattern: \"f/%d.png\", fps: -1}}\n" + stages).size(), 1u);
}

// A worker process (pipeline.isolation: process) gets its config as config_json's text and
// loads it as YAML: every value must come back the same, strings that YAML would read as
// something else included.
TEST_F(ConfigTest, TheEffectiveConfigAsJsonLoadsBackTheSame) {
  for (const std::string message :
       {"null", "~", "123", "0x1F", "yes: no", "- a", "{a: 1}", "'quoted' \"double\"", "#x",
        "trailing space ", "", "ünïcödé ✓", "line\nbreak\ttab"}) {
    // A JSON string is a YAML double-quoted one.
    const auto config = load(
        "pipeline: {threads: 3, isolation: process}\ninput: {include: ['*.MP4', '[ab]*']}\n"
        "stages:\n  - {type: decode}\n"
        "  - {name: boom, type: fail, concurrency: unlimited, params: {probability: 0.1, seed: "
        "-7, message: " +
        nlohmann::json(message).dump() + "}}\n  - {type: discard}\n");
    ASSERT_EQ(config_json(config)["stages"][1]["params"]["message"], message);
    const auto reloaded = load_config_text(dump_json(config_json(config)), "x.yaml", {}, registry_);
    EXPECT_EQ(config_json(reloaded), config_json(config)) << message;
    EXPECT_EQ(config_fingerprint(reloaded), config_fingerprint(config)) << message;
  }
}

TEST(Suggestions, OneRuleForEveryName) {
  EXPECT_EQ(edit_distance("widht", "width"), 2u);
  EXPECT_EQ(closest_match("widht", {"width", "height"}), "width");
  EXPECT_EQ(closest_match("resise", {"resize", "rotate"}), "resize");
  // Two edits are always allowed; longer words allow a third of their length.
  EXPECT_EQ(closest_match("ab", {"xyz"}), "");
  EXPECT_EQ(closest_match("gasian_blr", {"gaussian_blur"}), "gaussian_blur");  // 3 edits, 10 long
  EXPECT_EQ(closest_match("max_frame_flight", {"max_frames_in_flight"}), "max_frames_in_flight");
  EXPECT_EQ(closest_match("blur", {"canny"}), "");
  EXPECT_EQ(did_you_mean("tread", {"threads"}), " (did you mean 'threads'?)");
  EXPECT_EQ(did_you_mean("zzz", {"threads"}), "");
}

}  // namespace
}  // namespace framepipe
