// The analysis on run figures set by hand: which stage or resource limits the run, and the
// conclusions and advice that follow, against shares computed here from the same figures.
#include "pipeline/analysis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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
    result_.frames = 90;
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
    // As registered: decode and encode run on threads of their own, the filters on oneTBB's.
    stage.resource = kind == StageKind::transform ? ResourceClass::cpu : ResourceClass::io;
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

// The model's bounds, by hand from the fixture's figures (90 frames in 3 s):
// decode 1 worker / (1.0 s / 90) = 90 fps; blur 2 / (2.0 / 90) = 90; edges 2 / (1.5 / 90) = 120;
// video 1 / (2.34 / 90) = 38.46; threads 2 / ((2.0 + 1.5) / 90) = 51.43; cores 2 / (cpu / 90);
// frames in flight 16 / ((1.0 + 2.0 + 1.5 + 2.34) / 90) = 210.5.
TEST_F(AnalysisTest, TheModelBoundsEachResourceFromTheRunsFigures) {
  const auto analysis = analyze_with_process_cpu(4.0);
  ASSERT_TRUE(analysis.model.has_value());
  std::map<std::string, double> bounds;
  for (const auto& bound : analysis.model->bounds) bounds[bound.what] = bound.fps;
  EXPECT_NEAR(bounds["stage decode"], 90.0, 1e-6);
  EXPECT_NEAR(bounds["stage blur"], 90.0, 1e-6);
  EXPECT_NEAR(bounds["stage edges"], 120.0, 1e-6);
  EXPECT_NEAR(bounds["stage video"], 90.0 / 2.34, 1e-6);
  EXPECT_NEAR(bounds["threads"], 2 * 90.0 / 3.5, 1e-6);
  EXPECT_NEAR(bounds["cores"], 2 * 90.0 / 4.0, 1e-6);
  EXPECT_NEAR(bounds["frames_in_flight"], 16 * 90.0 / 6.84, 1e-6);
  EXPECT_NEAR(analysis.model->measured_fps, 30.0, 1e-9);
  EXPECT_NEAR(analysis.model->bound_fps, 90.0 / 2.34, 1e-6);
  EXPECT_EQ(analysis.limited_by, "stage");
  EXPECT_EQ(result_.stages[*analysis.bottleneck].name, "video");
  EXPECT_TRUE(says(analysis, "bottleneck: `video`"));
  EXPECT_TRUE(
      says(analysis, "`video` is serial_in_order (one frame at a time) and busy 78% of the run"));
}

TEST_F(AnalysisTest, SaturatedCoresAreTheLimitWhenTheirBoundIsTheTightest) {
  // 5.8 CPU-s in 3 s: the cores allow 2 / (5.8 / 90) = 31.0 fps, below the encoder's 38.5.
  const auto analysis = analyze_with_process_cpu(5.8);
  ASSERT_TRUE(analysis.bottleneck.has_value());
  EXPECT_EQ(result_.stages[*analysis.bottleneck].name, "video") << "the busiest stage";
  EXPECT_EQ(analysis.limited_by, "cores");
  EXPECT_TRUE(says(analysis, "busiest stage: `video`"));
  EXPECT_TRUE(says(analysis,
                   "limited by the cores: the process used 97% of 2 cores "
                   "(5.80 CPU-s in 3.00 s)"));
  EXPECT_FALSE(says(analysis, "bottleneck: "));
  EXPECT_FALSE(says(analysis, "sets the pace"));
  // Nothing waits that more threads or frames could overlap.
  EXPECT_TRUE(analysis.advice.empty());
}

TEST_F(AnalysisTest, TheCoresAndTheEncoderTradePlacesWhereTheirBoundsCross) {
  // The cores' bound 180 / cpu meets the encoder's 90 / 2.34 at cpu = 4.68 s.
  EXPECT_EQ(analyze_with_process_cpu(4.70).limited_by, "cores");
  EXPECT_EQ(analyze_with_process_cpu(4.66).limited_by, "stage");
  // The encoder busy 2.95 s: its 30.5 fps is below the cores' 31.0 even at 5.8 CPU-s.
  result_.stages.back().busy_ns = ns(2.95);
  const auto analysis = analyze_with_process_cpu(5.8);
  EXPECT_EQ(analysis.limited_by, "stage");
  EXPECT_TRUE(says(analysis, "sets the pace"));
}

TEST_F(AnalysisTest, OtherProcessesShareIsMeasuredAndLimitsAsFarAsTheyMadeTheRunWait) {
  // The machine's cores were busy 5.4 s of 6: 4.0 of it this process, 1.4 others (23%).
  result_.machine_busy_ns = ns(5.4);
  auto bounds_of = [](const RunAnalysis& analysis) {
    std::map<std::string, double> bounds;
    for (const auto& bound : analysis.model->bounds) bounds[bound.what] = bound.fps;
    return bounds;
  };
  const auto analysis = analyze_with_process_cpu(4.0);
  EXPECT_TRUE(analysis.machine.measured);
  EXPECT_NEAR(analysis.machine.other_cpu_share, 1.4 / 6.0, 1e-6);
  EXPECT_TRUE(says(analysis, "other processes used 23% of the 2 cores during the run"));
  // The stages never waited for a core: the others took only what this run left.
  EXPECT_NEAR(bounds_of(analysis)["cores"], 2 * 90.0 / 4.0, 1e-6);
  // The encoder ran 1.0 s and waited 1.0 s for a core, beside 4.2 s of the other stages' CPU:
  // others held 1.4 / 3 cores for 1.0 / 6.2 of the time this run wanted one.
  result_.stages.back().cpu_ns = ns(1.0);
  result_.stages.back().runnable_ns = ns(1.0);
  const double contention = 1.0 / (1.0 + 0.9 + 1.9 + 1.4 + 1.0);
  EXPECT_NEAR(bounds_of(analyze_with_process_cpu(4.0))["cores"],
              (2 - 1.4 / 3.0 * contention) * 90.0 / 4.0, 1e-6);
}

TEST_F(AnalysisTest, WorkersSpinningBetweenCallsAreNotWorkAFrameNeeds) {
  // 7.6 CPU-s: 6.2 s in the stages' calls, 1.4 s outside them, of which 1.0 s the engine's
  // threads spent between calls. The cores' bound counts 6.6 s of work: 2 / (6.6 / 90).
  result_.threads_idle_cpu_ns = ns(1.0);
  const auto analysis = analyze_with_process_cpu(7.6);
  EXPECT_NEAR(analysis.idle_threads_cpu_s, 1.0, 1e-9);
  std::map<std::string, double> bounds;
  for (const auto& bound : analysis.model->bounds) bounds[bound.what] = bound.fps;
  EXPECT_NEAR(bounds["cores"], 2 * 90.0 / 6.6, 1e-6);
  EXPECT_TRUE(says(analysis, "1.40 s of it outside stage calls"));
  EXPECT_TRUE(says(analysis, "of which 1.00 s on the engine's threads between calls"));
  // Never more than the CPU outside the stages' calls.
  result_.threads_idle_cpu_ns = ns(9.0);
  EXPECT_NEAR(analyze_with_process_cpu(7.6).idle_threads_cpu_s, 1.4, 1e-9);
}

TEST_F(AnalysisTest, WaitingForACoreIsCpuBoundTimeNotIo) {
  // The encoder: 2.34 s busy, 1.0 s on a CPU, 1.2 s ready without a core, 0.14 s asleep.
  result_.stages.back().cpu_ns = ns(1.0);
  result_.stages.back().runnable_ns = ns(1.2);
  const auto analysis = analyze_with_process_cpu(4.0);
  const auto& video = analysis.stages.back();
  EXPECT_NEAR(video.off_cpu_s, 1.34, 1e-9);
  EXPECT_NEAR(video.runnable_s, 1.2, 1e-9);
  EXPECT_NEAR(video.sleeping_s, 0.14, 1e-9);
  EXPECT_EQ(video.cls, "cpu-bound") << "(1.0 + 1.2) / 2.34 = 0.94";
  // Without a core it would have held its worker 2.34 − 1.2 s a run: 90 / 1.14 fps.
  std::map<std::string, double> bounds;
  for (const auto& bound : analysis.model->bounds) bounds[bound.what] = bound.fps;
  EXPECT_NEAR(bounds["stage video"], 90.0 / 1.14, 1e-6);
}

TEST_F(AnalysisTest, AFrameWaitingForAThreadIsNotStarvation) {
  // blur: 2 workers × 3 s = 6 s, busy 2.0: idle 4.0 s, of which 2.5 s with a frame queued.
  result_.stages[1].waiting_for_thread_ns = ns(2.5);
  const auto analysis = analyze_with_process_cpu(4.0);
  EXPECT_NEAR(analysis.stages[1].waiting_for_thread_s, 2.5, 1e-9);
  EXPECT_NEAR(analysis.stages[1].starved_s, 1.5, 1e-9);
}

TEST_F(AnalysisTest, TooFewFramesInFlightAreAdvisedAsLittlesLawAllows) {
  // One frame in flight: 1 / (6.84 s / 90) = 13.2 fps. The next bound is the encoder's
  // 38.5 fps, which needs 38.5 × 6.84 / 90 = 2.9 frames in flight: 1 → 2 → 4.
  config_.max_frames_in_flight = 1;
  const auto analysis = analyze_with_process_cpu(4.0);
  EXPECT_EQ(analysis.limited_by, "frames_in_flight");
  ASSERT_EQ(analysis.advice.size(), 1u);
  EXPECT_EQ(analysis.advice[0].key, "pipeline.max_frames_in_flight");
  EXPECT_EQ(analysis.advice[0].to, "4");
  // Measured 30 fps × (38.46 / 13.16).
  EXPECT_NEAR(analysis.advice[0].predicted_fps, 30.0 * (90.0 / 2.34) / (90.0 / 6.84), 1e-6);
  EXPECT_NEAR(analysis.advice[0].predicted_wall_s, 90 / analysis.advice[0].predicted_fps, 1e-9);
}

// pipeline.threads 1 on 2 cores: the one oneTBB thread is in stage calls 2.85 s of 3 s (95%):
// blur 1.6 s and edges 1.25 s.
class OneThreadAnalysisTest : public AnalysisTest {
 protected:
  OneThreadAnalysisTest() {
    config_.threads = 1;
    result_.arena_threads = 1;
    result_.arena_busy_ns = ns(2.85);
    result_.stages[1].busy_ns = ns(1.6);
    result_.stages[2].busy_ns = ns(1.25);
  }
};

TEST_F(OneThreadAnalysisTest, TooFewThreadsAreTheLimitAndMoreArePredictedToGain) {
  // threads: 1 / (2.85 / 90) = 31.6 fps; cores at 5.0 CPU-s: 36; the encoder 38.5.
  const auto analysis = analyze_with_process_cpu(5.0);
  EXPECT_NEAR(analysis.threads_utilization, 2.85 / 3.0, 1e-9);
  EXPECT_EQ(analysis.limited_by, "threads");
  EXPECT_TRUE(says(analysis, "busiest stage: `video`"));
  EXPECT_TRUE(says(analysis,
                   "limited by pipeline.threads: its 1 oneTBB thread spent 95% of the run in "
                   "stage calls (2.85 s in 3.00 s) on a machine of 2 cores"));
  EXPECT_FALSE(says(analysis, "sets the pace"));
  ASSERT_EQ(analysis.advice.size(), 1u);
  EXPECT_EQ(analysis.advice[0].key, "pipeline.threads");
  EXPECT_EQ(analysis.advice[0].from, "1");
  EXPECT_EQ(analysis.advice[0].to, "2");
  // Two threads allow 63 fps; the cores then limit at 36: 30 × 36 / 31.6.
  EXPECT_NEAR(analysis.advice[0].predicted_fps, 30.0 * 36.0 / (90.0 / 2.85), 1e-6);
}

TEST_F(OneThreadAnalysisTest, AChangePredictedToGainUnderFivePercentIsNotAdvised) {
  // 5.6 CPU-s: the cores allow 32.1 fps, 1.8% above the thread's 31.6.
  const auto analysis = analyze_with_process_cpu(5.6);
  EXPECT_EQ(analysis.limited_by, "threads");
  EXPECT_TRUE(analysis.advice.empty());
  EXPECT_TRUE(says(analysis,
                   "no setting change is predicted to gain 5% or more (considered: "
                   "pipeline.threads 1 -> 2)"));
}

TEST_F(OneThreadAnalysisTest, ThreadsLeftToTheMachineAreNotAdvised) {
  // threads: 0 asks for every core the process may use; fewer (CPU affinity) is not the config's.
  config_.threads = 0;
  const auto analysis = analyze_with_process_cpu(5.0);
  EXPECT_EQ(analysis.limited_by, "threads");
  EXPECT_TRUE(analysis.advice.empty());
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

TEST_F(RoleAdviceTest, ASpeedLadderThatAppliesNamesTheNextFasterRungWithoutAPrediction) {
  use_sink("{name: video, type: encode, params: {codec: libx264, preset: medium, path: o.mp4}}");
  const auto analysis = analyze_with_process_cpu(4.0);
  // A rung changes the work itself, so the model cannot predict it: a conclusion, not advice.
  EXPECT_TRUE(advice_on(analysis, "stages.video.params.preset").empty());
  EXPECT_TRUE(says(analysis, "(medium -> fast)")) << "x264's ladder: ... fast, medium, slow ...";
  EXPECT_TRUE(says(analysis, "changes the output"));
  EXPECT_TRUE(says(analysis, "--set stages.video.params.preset=fast"));
}

TEST_F(RoleAdviceTest, NoRungFasterThanTheFastestAndNoLadderForOtherCodecs) {
  use_sink("{name: video, type: encode, params: {codec: libx264, preset: ultrafast, path: o.mp4}}");
  EXPECT_FALSE(says(analyze_with_process_cpu(4.0), "speed ladder"));
  // mpeg4 takes no x264 presets: the encode stage's ladder is empty for it.
  use_sink("{name: video, type: encode, params: {codec: mpeg4, preset: medium, path: o.mp4}}");
  const auto analysis = analyze_with_process_cpu(4.0);
  EXPECT_TRUE(advice_on(analysis, "stages.video.params.preset").empty());
  EXPECT_TRUE(says(analysis, "sets the pace"));
}

TEST_F(RoleAdviceTest, HelperThreadsBelowTheCoresComeFirstAsAnExperimentNotAPrediction) {
  use_sink("{name: video, type: encode, params: {threads: 1, preset: medium, path: o.mp4}}");
  const auto analysis = analyze_with_process_cpu(4.0);
  // How much more threads gain is the library's to say (frame threads pay off only on long
  // inputs): no advice with a predicted fps, a conclusion naming the change to measure.
  EXPECT_TRUE(advice_on(analysis, "stages.video.params.threads").empty());
  EXPECT_TRUE(says(analysis, "with 1 helper threads (`threads`)"));
  EXPECT_TRUE(says(analysis, "--set stages.video.params.threads=2")) << "the machine's cores";
  EXPECT_FALSE(says(analysis, "speed ladder")) << "one change at a time";
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
