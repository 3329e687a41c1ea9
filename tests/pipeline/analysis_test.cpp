// The analysis on run figures set by hand: which stage or resource limits the run, and the
// conclusions and advice that follow, against shares computed here from the same figures.
#include "pipeline/analysis.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "stages/register_all.h"

namespace framepipe::testing {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::int64_t ns(double seconds) { return static_cast<std::int64_t>(seconds * kSecond); }

// blur + edges + MPEG-4 on 2 cores, 3 s: the encoder is the busiest stage (2.34 s of 3 s,
// 78%); the parallel stages at most 2.0 s of 2 workers × 3 s (33%).
class AnalysisTest : public ::testing::Test {
 protected:
  AnalysisTest() {
    stages::register_all(registry_);
    config_ = load_config_text(
        "pipeline: {threads: 2}\n"
        "stages:\n"
        "  - {name: decode, type: decode}\n"
        "  - {name: blur, type: gaussian_blur, concurrency: unlimited}\n"
        "  - {name: edges, type: canny, concurrency: unlimited}\n"
        "  - {name: video, type: encode, params: {codec: mpeg4, path: out.mp4}}\n",
        "analysis.yaml", {}, registry_);
    result_.wall_s = 3.0;
    result_.cores = 2;
    result_.arena_threads = 2;
    add("decode", StageKind::source, Ordering::serial_in_order, {}, 1.0, 0.9);
    add("blur", StageKind::transform, Ordering::parallel, {true, 1}, 2.0, 1.9);
    add("edges", StageKind::transform, Ordering::parallel, {true, 1}, 1.5, 1.4);
    add("video", StageKind::sink, Ordering::serial_in_order, {false, 1}, 2.34, 2.0);
  }

  void add(const std::string& name, StageKind kind, Ordering ordering, Concurrency concurrency,
           double busy_s, double cpu_s) {
    StageRunStats stage;
    stage.name = name;
    stage.type = name;
    stage.kind = kind;
    stage.ordering = ordering;
    stage.concurrency = concurrency;
    stage.busy_ns = ns(busy_s);
    stage.cpu_ns = ns(cpu_s);
    result_.stages.push_back(stage);
  }

  RunAnalysis analyze_with_process_cpu(double cpu_s) {
    result_.process_cpu_ns = ns(cpu_s);
    return analyze(config_, result_);
  }

  static bool says(const RunAnalysis& analysis, const std::string& text) {
    return std::any_of(analysis.conclusions.begin(), analysis.conclusions.end(),
                       [&](const std::string& c) { return c.find(text) != std::string::npos; });
  }

  Registry registry_;
  Config config_;
  RunResult result_;
};

TEST_F(AnalysisTest, SaturatedCoresWithNoSaturatedStageAreTheLimit) {
  // 5.8 CPU-s in 3 s on 2 cores: 97% of the cores.
  const auto analysis = analyze_with_process_cpu(5.8);
  ASSERT_TRUE(analysis.bottleneck.has_value());
  EXPECT_EQ(result_.stages[*analysis.bottleneck].name, "video");
  EXPECT_NEAR(analysis.stages[*analysis.bottleneck].utilization, 2.34 / 3.0, 1e-9);
  EXPECT_NEAR(analysis.process_utilization, 5.8 / 6.0, 1e-9);
  EXPECT_EQ(analysis.limited_by, "cores");
  EXPECT_TRUE(says(analysis, "busiest stage: `video`"));
  EXPECT_TRUE(says(analysis,
                   "limited by the cores: the process used 97% of 2 cores "
                   "(5.80 CPU-s in 3.00 s) while the busiest stage was busy 78%"));
  EXPECT_FALSE(says(analysis, "bottleneck: "));
  EXPECT_FALSE(says(analysis, "sets the pace"));
  // Nothing waits that more threads or frames could overlap.
  for (const auto& advice : analysis.advice) {
    EXPECT_EQ(advice.key.find("concurrency"), std::string::npos) << advice.key;
    EXPECT_NE(advice.key, "pipeline.max_frames_in_flight");
  }
}

TEST_F(AnalysisTest, IdleCoresLeaveTheBusiestStageAsTheLimit) {
  // 4.0 CPU-s in 3 s on 2 cores: 67%, cores to spare; the serial encoder sets the pace.
  const auto analysis = analyze_with_process_cpu(4.0);
  EXPECT_EQ(analysis.limited_by, "stage");
  EXPECT_TRUE(says(analysis, "bottleneck: `video`"));
  EXPECT_TRUE(
      says(analysis, "`video` is serial_in_order (one frame at a time) and busy 78% of the run"));
  EXPECT_FALSE(says(analysis, "limited by the cores"));
}

TEST_F(AnalysisTest, AStageBusyAlmostAllTheRunIsTheLimitEvenOnBusyCores) {
  // The encoder busy 2.85 s of 3 s (95% ≥ 90%) with the cores at 97%: it sets the pace.
  result_.stages.back().busy_ns = ns(2.85);
  const auto analysis = analyze_with_process_cpu(5.8);
  EXPECT_EQ(analysis.limited_by, "stage");
  EXPECT_TRUE(says(analysis, "bottleneck: `video`"));
  EXPECT_TRUE(says(analysis, "sets the pace"));
}

TEST_F(AnalysisTest, CoresCountAsSaturatedFromNinetyPercent) {
  // 5.41 and 5.39 CPU-s in 3 s on 2 cores: 90.2% and 89.8%.
  EXPECT_EQ(analyze_with_process_cpu(5.41).limited_by, "cores");
  EXPECT_EQ(analyze_with_process_cpu(5.39).limited_by, "stage");
}

// pipeline.threads 1 on 2 cores: the one oneTBB thread is in stage calls 2.85 s of 3 s (95%),
// no stage is busy 90% of its workers' time and the process uses 83% of the cores.
class OneThreadAnalysisTest : public AnalysisTest {
 protected:
  OneThreadAnalysisTest() {
    config_.threads = 1;
    result_.arena_threads = 1;
    result_.arena_busy_ns = ns(2.85);
  }
};

TEST_F(OneThreadAnalysisTest, TooFewThreadsBusyInStageCallsAreTheLimit) {
  const auto analysis = analyze_with_process_cpu(5.0);
  EXPECT_NEAR(analysis.threads_utilization, 2.85 / 3.0, 1e-9);
  EXPECT_EQ(analysis.limited_by, "threads");
  EXPECT_TRUE(says(analysis, "busiest stage: `video`"));
  EXPECT_TRUE(says(analysis,
                   "limited by pipeline.threads: its 1 oneTBB thread spent 95% of the run in "
                   "stage calls (2.85 s in 3.00 s) on a machine of 2 cores, while the busiest "
                   "stage was busy 78%"));
  EXPECT_FALSE(says(analysis, "sets the pace"));
  ASSERT_EQ(analysis.advice.size(), 1u);
  EXPECT_EQ(analysis.advice[0].key, "pipeline.threads");
  EXPECT_EQ(analysis.advice[0].from, "1");
  EXPECT_EQ(analysis.advice[0].to, "2");
}

TEST_F(OneThreadAnalysisTest, ThreadsCountAsSaturatedFromNinetyPercent) {
  result_.arena_busy_ns = ns(2.71);  // 90.3%
  EXPECT_EQ(analyze_with_process_cpu(5.0).limited_by, "threads");
  result_.arena_busy_ns = ns(2.69);  // 89.7%
  EXPECT_EQ(analyze_with_process_cpu(5.0).limited_by, "stage");
}

TEST_F(OneThreadAnalysisTest, SaturatedCoresOrStageComeFirst) {
  EXPECT_EQ(analyze_with_process_cpu(5.8).limited_by, "cores");
  result_.stages.back().busy_ns = ns(2.85);
  EXPECT_EQ(analyze_with_process_cpu(5.0).limited_by, "stage");
}

TEST_F(OneThreadAnalysisTest, ThreadsAreNotTheLimitWhenTheyMatchTheCoresOrAreLeftToTheMachine) {
  result_.arena_threads = 2;
  config_.threads = 2;
  result_.arena_busy_ns = ns(5.7);
  EXPECT_EQ(analyze_with_process_cpu(5.0).limited_by, "stage");
  // threads: 0 asks for every core the process may use; fewer (CPU affinity) is not the config's.
  result_.arena_threads = 1;
  config_.threads = 0;
  result_.arena_busy_ns = ns(2.85);
  EXPECT_EQ(analyze_with_process_cpu(5.0).limited_by, "stage");
}

TEST_F(AnalysisTest, NoBusyStageLimitsNothing) {
  for (auto& stage : result_.stages) stage.busy_ns = stage.cpu_ns = 0;
  const auto analysis = analyze_with_process_cpu(0.1);
  EXPECT_FALSE(analysis.bottleneck.has_value());
  EXPECT_EQ(analysis.limited_by, "");
}

// The advice on a stage's own parameters comes from the roles its ParamSpecs declare. Same
// figures as above with 4.0 CPU-s (67% of the cores, cores to spare): the serial encoder, busy
// 78% of the run, sets the pace.
class RoleAdviceTest : public AnalysisTest {
 protected:
  void use_sink(const std::string& entry) {
    config_ = load_config_text(
        "pipeline: {threads: 2}\n"
        "stages:\n"
        "  - {name: decode, type: decode}\n"
        "  - {name: blur, type: gaussian_blur, concurrency: unlimited}\n"
        "  - {name: edges, type: canny, concurrency: unlimited}\n"
        "  - " +
            entry + "\n",
        "analysis.yaml", {}, registry_);
  }

  static std::vector<Advice> advice_on(const RunAnalysis& analysis, const std::string& key) {
    std::vector<Advice> found;
    for (const auto& advice : analysis.advice) {
      if (advice.key == key) found.push_back(advice);
    }
    return found;
  }
};

TEST_F(RoleAdviceTest, ASpeedLadderThatAppliesGivesTheNextFasterRung) {
  use_sink("{name: video, type: encode, params: {codec: libx264, preset: medium, path: o.mp4}}");
  const auto advice = advice_on(analyze_with_process_cpu(4.0), "stages.video.params.preset");
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_EQ(advice[0].from, "medium");
  EXPECT_EQ(advice[0].to, "fast") << "x264's ladder: ... fast, medium, slow ...";
  EXPECT_NE(advice[0].reason.find("changes the output"), std::string::npos) << advice[0].reason;
}

TEST_F(RoleAdviceTest, NoRungFasterThanTheFastestAndNoLadderForOtherCodecs) {
  use_sink("{name: video, type: encode, params: {codec: libx264, preset: ultrafast, path: o.mp4}}");
  EXPECT_TRUE(advice_on(analyze_with_process_cpu(4.0), "stages.video.params.preset").empty());
  // mpeg4 takes no x264 presets: the encode stage's ladder is empty for it.
  use_sink("{name: video, type: encode, params: {codec: mpeg4, preset: medium, path: o.mp4}}");
  const auto analysis = analyze_with_process_cpu(4.0);
  EXPECT_TRUE(advice_on(analysis, "stages.video.params.preset").empty());
  EXPECT_TRUE(says(analysis, "sets the pace"));
}

TEST_F(RoleAdviceTest, HelperThreadsBelowTheCoresComeFirst) {
  use_sink("{name: video, type: encode, params: {threads: 1, preset: medium, path: o.mp4}}");
  const auto analysis = analyze_with_process_cpu(4.0);
  const auto advice = advice_on(analysis, "stages.video.params.threads");
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_EQ(advice[0].from, "1");
  EXPECT_EQ(advice[0].to, "2") << "the machine's cores";
  EXPECT_TRUE(advice_on(analysis, "stages.video.params.preset").empty()) << "one change at a time";
}

// A stage the engine has never heard of, whose in-flight parameter has a name of its own: the
// analysis finds it by its role.
class Outstanding : public SinkStage {
 public:
  static inline const auto requests =
      Param<int>{"requests", 2, "requests kept outstanding"}.range(1, 64).in_flight();
  void consume(Frame&) override {}
};

TEST_F(RoleAdviceTest, AnInFlightParameterIsFoundByItsRoleNotItsName) {
  registry_.add(stage_info<Outstanding>({.type = "outstanding",
                                         .resource = ResourceClass::io,
                                         .ordering = Ordering::serial_in_order,
                                         .summary = "test sink",
                                         .example = "- { type: outstanding }",
                                         .params = {Outstanding::requests}}));
  use_sink("{name: video, type: outstanding}");
  result_.stages.back().cpu_ns = ns(0.2);  // 0.2 of 2.34 s on a CPU: io-bound
  const auto advice = advice_on(analyze_with_process_cpu(2.0), "stages.video.params.requests");
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_EQ(advice[0].from, "2");
  EXPECT_EQ(advice[0].to, "8") << "x4, within its range";
}

}  // namespace
}  // namespace framepipe::testing
