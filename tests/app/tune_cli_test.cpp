// `framepipe tune` end to end on pipelines whose best settings are known: a sleeping stage
// (its cost does not depend on the machine's load) at concurrency 1, and a pipeline with
// nothing to gain. What tune measured is checked again by running its tuned config.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using reliability::kBinary;
using reliability::spawn_framepipe;
using reliability::wait_bounded;
using reliability::wait_for_sigint_handler;
using reliability::write_file;

// 80 frames of 64x48.
fs::path tune_clip() {
  return make_clip("tune-64x48-80f.mp4",
                   "-f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 80 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

const char* const kSlowStage =
    "# 10 ms of waiting per frame, one frame at a time.\n"
    "pipeline:\n"
    "  name: slow\n"
    "stages:\n"
    "  - {name: decode, type: decode}\n"
    "  - name: wait\n"
    "    type: sleep\n"
    "    concurrency: 1  # the mistake\n"
    "    params: {ms: 10}\n"
    "  - {name: sink, type: discard}\n";

class TuneCliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("tune"); }
  void TearDown() override { fs::remove_all(dir_); }

  CommandResult tune(const fs::path& config, const fs::path& out, const std::string& args = "") {
    return run_shell(shell_quote(kBinary) + " tune " + shell_quote(config.string()) + " -i " +
                     shell_quote(tune_clip().string()) + " -o " + shell_quote(out.string()) + " " +
                     args + " 2>&1");
  }

  double run_fps(const fs::path& config, const std::string& name) {
    const auto out = dir_ / name;
    const auto result =
        run_shell(shell_quote(kBinary) + " run " + shell_quote(config.string()) + " -q -i " +
                  shell_quote(tune_clip().string()) + " -o " + shell_quote(out.string()) + " 2>&1");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return read_json(out / "report" / "report.json")["fps"].get<double>();
  }

  fs::path dir_;
};

TEST_F(TuneCliTest, FindsTheConcurrencyASlowStageNeedsAndWritesItIntoTheUsersConfig) {
  const auto config = write_file(dir_ / "slow.yaml", kSlowStage);
  const auto out = dir_ / "tuned";
  const auto result = tune(config, out);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = read_json(out / "tune.json");
  EXPECT_EQ(report["schema"], "framepipe-tune/1");
  EXPECT_LE(report["measured_candidates"].get<int>(), 4);
  // 10 ms per frame one at a time is at most 100 fps; more at once is several times faster.
  EXPECT_LT(report["baseline_fps"].get<double>(), 101);
  EXPECT_GT(report["best_fps"].get<double>(), 2 * report["baseline_fps"].get<double>());
  const auto& steps = report["steps"];
  ASSERT_GE(steps.size(), 2u);
  for (const auto& step : steps) {
    if (step["step"] == 0 || !step["measured_fps"].is_number()) continue;
    const double measured = step["measured_fps"];
    EXPECT_NEAR(step["prediction_error"].get<double>(),
                (step["predicted_fps"].get<double>() - measured) / measured, 1e-9);
    // Kept only when every run of the candidate beat every run of the best beside it.
    const auto& runs = step["runs"];
    const auto& best_runs = step["best_runs"];
    const bool beat = *std::min_element(runs.begin(), runs.end()) >
                      *std::max_element(best_runs.begin(), best_runs.end());
    EXPECT_EQ(step["kept"].get<bool>(), beat) << step.dump();
  }
  // The tuned config keeps the user's comments and says what changed and what it measured.
  const auto tuned = read_text(out / "tuned.yaml");
  EXPECT_NE(tuned.find("# 10 ms of waiting per frame, one frame at a time.\n"), std::string::npos);
  EXPECT_NE(tuned.find("# framepipe tune: 1 -> "), std::string::npos) << tuned;
  EXPECT_EQ(tuned.find("concurrency: 1  # the mistake"), std::string::npos) << tuned;
  EXPECT_TRUE(fs::exists(out / "baseline" / "report.json"));
  EXPECT_TRUE(fs::exists(out / "best" / "report.json"));
  EXPECT_NE(read_text(out / "tune.html").find("<svg"), std::string::npos);
  EXPECT_NE(result.output.find("x faster ("), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(out / ".trial"));

  // `report compare` reads a tune folder as its best run: beside the config as it was, the
  // key tune changed.
  const auto compared = run_shell(shell_quote(kBinary) + " report compare " +
                                  shell_quote((out / "baseline").string()) + " " +
                                  shell_quote(out.string()) + " 2>&1");
  ASSERT_EQ(compared.exit_code, 0) << compared.output;
  EXPECT_NE(compared.output.find("stages.wait.concurrency: 1 -> "), std::string::npos)
      << compared.output;

  // Measured again, apart from tune: the tuned config is faster, as tune said.
  const double before = run_fps(config, "before");
  const double after = run_fps(out / "tuned.yaml", "after");
  EXPECT_GT(after, 1.5 * before) << before << " -> " << after;
}

TEST_F(TuneCliTest, ABatchIsTunedOnTheSampleOfItsFilesItIsGiven) {
  const auto config = write_file(dir_ / "slow.yaml", kSlowStage);
  const auto folder = dir_ / "clips";
  fs::create_directories(folder);
  for (int i = 0; i < 4; ++i)
    fs::copy_file(tune_clip(), folder / ("c" + std::to_string(i) + ".mp4"));
  const auto out = dir_ / "batch";
  const auto result =
      run_shell(shell_quote(kBinary) + " tune " + shell_quote(config.string()) + " -i " +
                shell_quote(folder.string()) + " -o " + shell_quote(out.string()) +
                " --sample-files 2 --frames 20 --max-candidates 1 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = read_json(out / "tune.json");
  EXPECT_EQ(report["files"], 2);
  const auto baseline = read_json(out / "baseline" / "batch.json");
  ASSERT_EQ(baseline["files"].size(), 2u);
  EXPECT_EQ(baseline["totals"]["frames"], 40);
  EXPECT_NEAR(report["baseline_fps"].get<double>(), baseline["totals"]["fps"].get<double>(), 1e-9);
}

TEST_F(TuneCliTest, AConfigAtItsBestIsMeasuredAndLeftAsItIs) {
  const std::string text =
      "stages:\n"
      "  - {name: decode, type: decode}\n"
      "  - {name: sink, type: discard}\n";
  // Names with spaces and a leading dash reach the measured runs as they are.
  const auto config = write_file(dir_ / "-at best.yaml", text);
  const auto out = dir_ / "-tuned here";
  const auto result = tune(config, out);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = read_json(out / "tune.json");
  EXPECT_EQ(report["measured_candidates"], 0);
  EXPECT_TRUE(report["changes"].empty());
  EXPECT_GT(report["baseline_fps"].get<double>(), 0);
  EXPECT_EQ(read_text(out / "tuned.yaml"), text);
  EXPECT_NE(result.output.find("nothing changed"), std::string::npos) << result.output;
}

TEST_F(TuneCliTest, AllowedSettingsTheModelCannotPredictAreMeasuredWithoutAPrediction) {
  const auto config = write_file(dir_ / "encode.yaml",
                                 "stages:\n"
                                 "  - {name: decode, type: decode}\n"
                                 "  - {name: video, type: encode, params: {path: '{stem}.mp4', "
                                 "codec: libx264, preset: medium}}\n");
  const auto out = dir_ / "allowed";
  const auto result =
      tune(config, out, "--allow stages.video.params.preset --max-candidates 1 --repeats 1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = read_json(out / "tune.json");
  ASSERT_EQ(report["steps"].size(), 2u) << report.dump(2);
  const auto& step = report["steps"][1];
  // The next faster rung of x264's ladder, measured; no prediction, so no prediction error.
  EXPECT_EQ(step["changes"][0]["key"], "stages.video.params.preset");
  EXPECT_EQ(step["changes"][0]["from"], "medium");
  EXPECT_EQ(step["changes"][0]["to"], "fast");
  EXPECT_TRUE(step["predicted_fps"].is_null());
  EXPECT_FALSE(step.contains("prediction_error"));
  EXPECT_TRUE(report["median_prediction_error"].is_null());

  const auto refused = tune(config, dir_ / "refused", "--allow stages.video.params.crf");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output.find("--allow stages.video.params.crf: tune varies"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(fs::exists(dir_ / "refused" / "tune.json"));
}

TEST_F(TuneCliTest, AnOutputFolderThatHoldsSomethingElseIsRefused) {
  const auto config = write_file(dir_ / "slow.yaml", kSlowStage);
  const auto out = dir_ / "busy";
  write_file(out / "notes.txt", "mine");
  const auto result = tune(config, out);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("holds no earlier tune"), std::string::npos) << result.output;
  EXPECT_EQ(read_text(out / "notes.txt"), "mine");
  EXPECT_FALSE(fs::exists(out / "runs"));
}

TEST_F(TuneCliTest, CtrlCKeepsWhatWasMeasured) {
  const auto config = write_file(dir_ / "slow.yaml", kSlowStage);
  const auto out = dir_ / "cancelled";
  const auto pid = spawn_framepipe(
      {"tune", config.string(), "-i", tune_clip().string(), "-o", out.string(), "--repeats", "3"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_sigint_handler(pid, std::chrono::seconds(30)));
  // Once the first candidate's run has started, the baseline is measured.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out / "runs" / "01-c1-run1") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(out / "runs" / "01-c1-run1"));
  kill(pid, SIGINT);
  EXPECT_EQ(wait_bounded(pid, std::chrono::seconds(30)), 130);
  const auto report = read_json(out / "tune.json");
  EXPECT_TRUE(report["cancelled"].get<bool>());
  EXPECT_EQ(report["steps"][0]["step"], 0);
  EXPECT_GT(report["baseline_fps"].get<double>(), 0);
  // Nothing was kept: the tuned config is the user's.
  EXPECT_EQ(read_text(out / "tuned.yaml"), kSlowStage);
  EXPECT_FALSE(fs::exists(out / ".trial"));
}

}  // namespace
}  // namespace framepipe::testing
