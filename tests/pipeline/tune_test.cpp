// framepipe tune's model side on figures set by hand: the knobs a config offers, the fps the
// model predicts for a change (computed here from the same figures), the proposal it climbs to,
// and the tuned config written back into the user's YAML.
#include "pipeline/tune.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "pipeline/json_text.h"
#include "pipeline/tuned_config.h"
#include "stages/register_all.h"

namespace framepipe::testing {
namespace {

class TuneTest : public ::testing::Test {
 protected:
  TuneTest() { stages::register_all(registry_); }

  Config load(const std::string& yaml, const std::vector<std::string>& overrides = {}) const {
    return load_config_text(yaml, "tune.yaml", overrides, registry_);
  }

  const Knob& knob(const std::vector<Knob>& knobs, const std::string& key) const {
    const auto at =
        std::find_if(knobs.begin(), knobs.end(), [&](const Knob& k) { return k.key == key; });
    EXPECT_NE(at, knobs.end()) << key;
    return *at;
  }

  Registry registry_;
};

const char* const kSlowIo =
    "pipeline: {threads: 2}\n"
    "stages:\n"
    "  - {name: decode, type: decode}\n"
    "  - {name: wait, type: sleep, concurrency: 1, params: {ms: 20}}\n"
    "  - {name: work, type: spin, concurrency: unlimited, params: {ms: 1}}\n"
    "  - {name: sink, type: discard}\n";

TEST_F(TuneTest, KnobsAreTheSettingsThatChangeSpeedNotOutput) {
  const auto knobs = tunable_knobs(load(kSlowIo), 4, 3);
  std::vector<std::string> keys;
  for (const auto& k : knobs) keys.push_back(k.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"stages.wait.concurrency", "pipeline.threads",
                                            "pipeline.max_frames_in_flight",
                                            "pipeline.files_in_parallel"}));
  // An io stage doubles its threads up to 64; the threads count up to the cores.
  EXPECT_EQ(knob(knobs, "stages.wait.concurrency").values,
            (std::vector<std::int64_t>{1, 2, 4, 8, 16, 32, 64}));
  const auto& threads = knob(knobs, "pipeline.threads");
  EXPECT_EQ(threads.now, 2);
  EXPECT_EQ(threads.values, (std::vector<std::int64_t>{1, 2, 3, 4}));
  // work and sink (discard) run on every arena thread.
  EXPECT_EQ(threads.unlimited_stages, (std::vector<std::size_t>{2, 3}));
  // Three files on 4 cores: at most 3 at once.
  EXPECT_EQ(knob(knobs, "pipeline.files_in_parallel").values, (std::vector<std::int64_t>{1, 2, 3}));
  // A single input has no files_in_parallel; threads: 0 (every core) offers no threads knob.
  const auto single = tunable_knobs(load(kSlowIo, {"pipeline.threads=0"}), 4, 0);
  EXPECT_TRUE(std::none_of(single.begin(), single.end(), [](const Knob& k) {
    return k.key == "pipeline.files_in_parallel" || k.key == "pipeline.threads";
  }));
}

TEST_F(TuneTest, AStageInFlightParameterIsAKnobFoundByItsRole) {
  const auto config = load(
      "stages:\n"
      "  - {name: decode, type: decode}\n"
      "  - {name: hook, type: post_events, params: {url: 'http://127.0.0.1:9/', "
      "max_in_flight: 2}}\n");
  const auto knobs = tunable_knobs(config, 2, 0);
  const auto& in_flight = knob(knobs, "stages.hook.params.max_in_flight");
  EXPECT_EQ(in_flight.now, 2);
  EXPECT_EQ(in_flight.effect, Knob::Effect::stage_in_flight);
  EXPECT_EQ(in_flight.values.front(), 1);
  EXPECT_EQ(in_flight.values.back(), 64);
}

// decode 1 ms serial; wait 20 ms at concurrency 1 (io); 1 ms of CPU per frame on 2 cores;
// 16 frames in flight; 100 frames in 2.2 s, of which 0.1 s opened and finished the stages.
MeasuredRun slow_io_run() {
  ModelInput model;
  model.stages = {{"decode", 0.001, 1, false},
                  {"wait", 0.020, 1, false},
                  {"work", 0.0, 2, true},
                  {"sink", 0.0, 1, false}};
  model.arena_threads = 2;
  model.usable_cores = 2;
  model.cpu_s = 0.001;
  model.frames_in_flight = 16;
  MeasuredRun run;
  run.files = {{100, 2.2, model, 0.1}};
  run.fps = 100 / 2.2;
  return run;
}

TEST_F(TuneTest, APredictionScalesTheStreamingTimeByTheModelsBounds) {
  const auto knobs = tunable_knobs(load(kSlowIo), 2, 0);
  const auto run = slow_io_run();
  EXPECT_NEAR(predict_fps(run, knobs, {}), 100 / 2.2, 1e-9);
  // wait at 4: its bound 4 / 20 ms = 200 fps, up from 50 (decode 1000, cores 2000, frames in
  // flight 16 / 21 ms = 762). Opening and finishing (0.1 s) and the first frame's way through
  // (21 ms) stay; the rest, 2.079 s, takes a quarter as long.
  const double wall = 0.121 + (2.2 - 0.121) * 50.0 / 200.0;
  EXPECT_NEAR(predict_fps(run, knobs, {{"stages.wait.concurrency", 4}}), 100 / wall, 1e-6);
}

TEST_F(TuneTest, TheProposalClimbsToTheModelsBestAndTakesTheSmallestChangeThatKeepsIt) {
  const auto knobs = tunable_knobs(load(kSlowIo), 2, 0);
  const auto run = slow_io_run();
  const auto proposal = propose(run, knobs, {});
  ASSERT_TRUE(proposal);
  // wait at 32 (1600 fps) and 32 frames in flight (32 / 21 ms = 1524) leave decode's 1000 fps as
  // the limit; wait at 16 (800) or 16 frames in flight (762) would not.
  EXPECT_EQ(proposal->changes,
            (Settings{{"pipeline.max_frames_in_flight", 32}, {"stages.wait.concurrency", 32}}));
  const double wall = 0.121 + (2.2 - 0.121) * 50.0 / 1000.0;
  EXPECT_NEAR(proposal->predicted_fps, 100 / wall, 1e-6);

  // Once measured, the same settings are not proposed again.
  Settings measured = {{"stages.wait.concurrency", 32},
                       {"pipeline.threads", 2},
                       {"pipeline.max_frames_in_flight", 32}};
  const auto next = propose(run, knobs, {measured});
  EXPECT_TRUE(!next || next->changes != proposal->changes);
}

TEST_F(TuneTest, NoProposalWhenNoKnobIsPredictedToGainFivePercent) {
  // The cores limit the run: 2 cores / 20 ms of CPU per frame = 100 fps, below every stage.
  auto run = slow_io_run();
  run.files[0].model.cpu_s = 0.020;
  run.files[0].model.stages[1].workers = 8;  // wait: 400 fps
  EXPECT_FALSE(propose(run, tunable_knobs(load(kSlowIo, {"pipeline.threads=0"}), 2, 0), {}));
}

TEST_F(TuneTest, ABatchRunsItsFilesAtOnceUpToWhatTheyShare) {
  // Two files of 50 frames, 1 s each, one at a time; decode 10 ms serial holds each file to
  // 100 fps; 5 ms of CPU per frame on 2 cores. The batch measured 45 fps (gaps between files).
  ModelInput model;
  model.stages = {{"decode", 0.010, 1, false}, {"sink", 0.0, 1, false}};
  model.arena_threads = 2;
  model.usable_cores = 2;
  model.cpu_s = 0.005;
  model.frames_in_flight = 16;
  MeasuredRun run;
  run.batch = true;
  run.fps = 45;
  run.files = {{50, 1.0, model, 0}, {50, 1.0, model, 0}};
  const auto knobs = tunable_knobs(load(kSlowIo), 2, 2);
  // One at a time: 100 frames in 2 s = 50 fps; two at once: 100 fps (cores: 2 / 5 ms = 400;
  // frames in flight: 16 / 10 ms = 1600). The measured 45 scales by 100 / 50.
  EXPECT_NEAR(predict_fps(run, knobs, {{"pipeline.files_in_parallel", 2}}), 90, 1e-9);
  // At 25 ms of CPU per frame the cores hold two files to 2 / 25 ms = 80 fps.
  for (auto& file : run.files) file.model.cpu_s = 0.025;
  EXPECT_NEAR(predict_fps(run, knobs, {{"pipeline.files_in_parallel", 2}}), 45 * 80.0 / 50, 1e-6);
}

TEST_F(TuneTest, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(median({3, 1, 2}), 2);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(median({}), 0);
}

// The tuned config is the user's file with the changed keys edited in place: it loads to the
// same effective config as the original with the changes as --set overrides.
class TunedConfigTest : public TuneTest {
 protected:
  void expect_edit(const std::string& yaml, const std::vector<SettingEdit>& edits,
                   const std::vector<std::string>& kept_lines) {
    const auto tuned = config_with_edits(yaml, "tune.yaml", edits, registry_);
    std::vector<std::string> overrides;
    for (const auto& edit : edits) overrides.push_back(edit.key + "=" + edit.value);
    EXPECT_EQ(dump_json(config_json(load(tuned))), dump_json(config_json(load(yaml, overrides))))
        << tuned;
    for (const auto& line : kept_lines) EXPECT_NE(tuned.find(line), std::string::npos) << tuned;
    for (const auto& edit : edits)
      EXPECT_NE(tuned.find("# " + edit.note + "\n"), std::string::npos) << tuned;
  }
};

TEST_F(TunedConfigTest, AValueSetInAFlowMapIsReplacedInPlace) {
  expect_edit(kSlowIo, {{"stages.wait.concurrency", "8", "1 -> 8"}},
              {"  - {name: wait, type: sleep, concurrency: 8, params: {ms: 20}}\n"});
}

TEST_F(TunedConfigTest, AMissingKeyIsAddedToItsFlowOrBlockMap) {
  const std::string yaml =
      "# my pipeline\n"
      "pipeline:\n"
      "  name: mine  # the label\n"
      "stages:\n"
      "  - {name: decode, type: decode}\n"
      "  - name: wait\n"
      "    type: sleep\n"
      "    params: { ms: 20 }\n"
      "  - {name: hook, type: post_events, params: {url: 'http://127.0.0.1:9/'}}\n";
  expect_edit(yaml,
              {{"pipeline.max_frames_in_flight", "32", "16 -> 32"},
               {"stages.wait.concurrency", "4", "1 -> 4"},
               {"stages.wait.params.ms", "20", "unchanged"},
               {"stages.hook.params.max_in_flight", "8", "1 -> 8"}},
              {"# my pipeline\n", "  name: mine  # the label\n", "    concurrency: 4\n"});
}

TEST_F(TunedConfigTest, AMissingSectionIsAdded) {
  expect_edit(
      "stages:\n  - {name: decode, type: decode}\n  - {name: wait, type: sleep}\n"
      "  - {name: sink, type: discard}\n",
      {{"pipeline.max_frames_in_flight", "4", "16 -> 4"}, {"stages.wait.concurrency", "2", "+"}},
      {"  - {name: decode, type: decode}\n"});
}

TEST_F(TunedConfigTest, ALayoutItCannotEditGivesTheEffectiveConfigHeadedByTheChanges) {
  // `pipeline:` with no value: nothing to add a key to without guessing the layout.
  const std::string yaml =
      "pipeline:\nstages:\n  - {name: decode, type: decode}\n  - {name: sink, type: discard}\n";
  const auto tuned = config_with_edits(
      yaml, "tune.yaml", {{"pipeline.max_frames_in_flight", "4", "16 -> 4"}}, registry_);
  EXPECT_EQ(tuned.rfind("# pipeline.max_frames_in_flight: 16 -> 4\n", 0), 0u) << tuned;
  EXPECT_EQ(load(tuned).max_frames_in_flight, 4);
}

// `tune --allow` on a helper-threads parameter tries every core, half of them and one, leaving
// out the value it has; where 0 already means one thread per core (decode's threads), the core
// count is that same setting and is not tried again, while a library's own 0 (encode's) is
// another setting than the core count.
TEST(TuneHelperThreads, TriesCoresHalfAndOneButNotTheSettingItHas) {
  const auto library_choice = ParamSpec::integer("threads", 0, "").helper_threads();
  const auto one_per_core =
      ParamSpec::integer("threads", 0, "").helper_threads_one_per_core_at_zero();
  using Values = std::vector<std::string>;
  EXPECT_EQ(helper_thread_values(library_choice, "0", 16), (Values{"16", "8", "1"}));
  EXPECT_EQ(helper_thread_values(one_per_core, "0", 16), (Values{"8", "1"}));
  EXPECT_EQ(helper_thread_values(one_per_core, "8", 16), (Values{"16", "1"}));
  EXPECT_EQ(helper_thread_values(library_choice, "2", 2), (Values{"1"}));
  EXPECT_EQ(helper_thread_values(one_per_core, "0", 2), (Values{"1"}));
  EXPECT_EQ(helper_thread_values(one_per_core, "0", 1), (Values{}));
}

}  // namespace
}  // namespace framepipe::testing
