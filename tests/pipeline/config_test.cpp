// Config loading: each bad config gets its own message naming the place and what was expected;
// --set overrides any key; defaults are filled in.
#include "pipeline/config.h"

#include <gtest/gtest.h>

#include "pipeline/json_text.h"
#include "pipeline/manifest.h"
#include "pipeline/settings.h"
#include "pipeline/suggest.h"
#include "stages/register_all.h"

namespace framepipe {
namespace {

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
  EXPECT_EQ(missing[0], "--set stages.nope.params.sigma=2: no stage named 'nope'");
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
            "'width'?); parameters: width, height, interpolation");
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
      "x.yaml:4:35: stage 'gaussian_blur' (type gaussian_blur): 'ksize' must be odd or 0, got 4");
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
                "x.yaml: stage 'resize' (type resize): the first stage must be a source (type: "
                "decode)"});
  EXPECT_EQ(
      problems(
          "stages:\n  - {type: decode}\n  - {type: resize, input: nowhere}\n  - {type: discard}\n"),
      std::vector<std::string>{
          "x.yaml: stage 'resize' (type resize): input 'nowhere' is not a stage listed "
          "before this one"});
  EXPECT_EQ(problems("stages:\n  - {type: decode}\n  - {type: resize}\n"),
            std::vector<std::string>{
                "x.yaml: the pipeline has no sink: end it with one (type: contact_sheet, discard, "
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
  EXPECT_EQ(p[0], "x.yaml:2:18: input: 'include' must be a list, e.g. [a, b]");
  EXPECT_EQ(p[1],
            "x.yaml:1:26: report: each of 'formats' must be one of: json, html, trace, got 'pdf'");
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
            R"("files_in_parallel":1,"isolation":"thread"})");
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
