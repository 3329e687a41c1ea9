// The profiler against known truth: synthetic stages whose wall and CPU time per frame are
// set by their parameters, so the report's figures and conclusions can be checked by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "pipeline/analysis.h"
#include "pipeline/report.h"
#include "pipeline/sched_stats.h"
#include "pipeline/threads.h"
#include "stages/register_all.h"
#include "tests/support/competing_load.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

// 200 small frames: decoding them costs next to nothing next to the synthetic stages.
std::filesystem::path clip_200() {
  return make_clip("truth-160x120-200f.mp4",
                   "-f lavfi -i testsrc2=size=160x120:rate=50:duration=4 -c:v libx264 "
                   "-preset ultrafast -pix_fmt yuv420p");
}

class ProfilerTruth : public ::testing::Test {
 protected:
  ProfilerTruth() { stages::register_all(registry_); }

  nlohmann::json run(const std::string& stages_yaml, int threads = 2) {
    config_ = load_config_text(
        "pipeline: {threads: " + std::to_string(threads) + "}\nstages:\n" + stages_yaml,
        "truth.yaml", {}, registry_);
    config_.input_path = clip_200().string();
    result_ = run_pipeline(config_);
    EXPECT_TRUE(result_.ok()) << result_.error->to_string();
    return build_report(config_, result_, analyze(config_, result_));
  }

  static const nlohmann::json& stage(const nlohmann::json& report, const std::string& name) {
    for (const auto& s : report["stages"]) {
      if (s["name"] == name) return s;
    }
    throw std::runtime_error("no stage " + name);
  }

  // The run with `loops` busy loops of other processes beside it; `loops_share` gets the share
  // of the cores they took during the run.
  nlohmann::json run_beside_loops(const std::string& stages_yaml, int threads, int loops,
                                  double& loops_share) {
    double background = 0;
    return run_beside_loops(stages_yaml, threads, loops, loops_share, background);
  }
  // `background_share`: the share of the cores other processes took in the half second before
  // the loops started; during the run they can only take less, the loops competing with them.
  nlohmann::json run_beside_loops(const std::string& stages_yaml, int threads, int loops,
                                  double& loops_share, double& background_share) {
    const auto cores = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
    const auto machine_before = machine_busy_ns().value_or(0);
    const auto self_before = process_cpu_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    background_share = static_cast<double>((machine_busy_ns().value_or(0) - machine_before) -
                                           (process_cpu_ns() - self_before)) /
                       0.5e9 / cores;
    const CompetingLoad load(loops);
    // Let the loops start spinning before the run begins.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto loops_before = load.cpu_ns();
    const auto start = steady_now_ns();
    auto report = run(stages_yaml, threads);
    const double wall_s = static_cast<double>(steady_now_ns() - start) / 1e9;
    loops_share = static_cast<double>(load.cpu_ns() - loops_before) / 1e9 / (wall_s * cores);
    return report;
  }

  Registry registry_;
  Config config_;
  RunResult result_;
};

// What a run got wrong, one line each; empty when it matched the truth.
class Mismatches {
 public:
  void near(const std::string& what, double actual, double truth, double tolerance) {
    if (std::abs(actual - truth) > tolerance) {
      lines_ += what + " = " + std::to_string(actual) + ", truth " + std::to_string(truth) +
                " +- " + std::to_string(tolerance) + "\n";
    }
  }
  void that(bool holds, const std::string& what) {
    if (!holds) lines_ += what + "\n";
  }
  const std::string& lines() const { return lines_; }

 private:
  std::string lines_;
};

// Wall-clock figures come from a scheduler that other work can disturb for a moment, so a run
// is tried up to 3 times; the test fails when all 3 miss. It never skips: the figures must be
// true on a busy machine, and the tests below make the machine busy themselves.
void expect_truth(const std::function<Mismatches()>& attempt) {
  std::string why;
  for (int i = 0; i < 3; ++i) {
    const auto mismatches = attempt();
    if (mismatches.lines().empty()) return;
    why = mismatches.lines();
  }
  ADD_FAILURE() << why;
}

// Two busy loops of other processes take the cores for the whole run. A stage that burns CPU
// is still cpu-bound: the time it could not run is runnable (waiting for a core), not IO. A
// sleep stays io-bound, its sleeping time true. The report sees the loops' share of the cores.
TEST_F(ProfilerTruth, WaitingForACoreIsCpuBoundAndSleepIsIoBoundUnderLoadTheTestMakesItself) {
  expect_truth([&] {
    double loops_share = 0;
    double background_share = 0;
    const auto report = run_beside_loops(
        "  - {type: decode, params: {threads: 1}}\n"
        "  - {name: wait, type: sleep, params: {ms: 5}}\n"
        "  - {name: work, type: spin, concurrency: unlimited, params: {ms: 10}}\n"
        "  - {type: discard}\n",
        2, 2, loops_share, background_share);
    Mismatches m;
    const auto& wait = stage(report, "wait");
    const auto& work = stage(report, "work");
    m.that(report["frames"] == 200 && work["items"] == 200, "frames != 200");
    m.that(work["class"] == "cpu-bound", "spin is " + work["class"].get<std::string>());
    m.near("spin cpu_s", work["cpu_s"], 200 * 0.010, 0.1 * 200 * 0.010);
    // Burning CPU, the spin never sleeps: all its time off-CPU was waiting for a core, and the
    // loops made it wait.
    const double work_busy = work["busy_s"];
    m.that(work["sleeping_s"].get<double>() <= 0.05 * work_busy,
           "spin sleeping_s " + work["sleeping_s"].dump() + " of busy " + work["busy_s"].dump());
    m.near("spin runnable_s + cpu_s",
           work["runnable_s"].get<double>() + work["cpu_s"].get<double>(), work_busy,
           0.05 * work_busy);
    m.that(work["runnable_s"].get<double>() >= 0.1 * 200 * 0.010,
           "spin runnable_s " + work["runnable_s"].dump() + ": the loops should have made it wait");
    m.near("runnable_s + sleeping_s",
           work["runnable_s"].get<double>() + work["sleeping_s"].get<double>(),
           work["off_cpu_s"].get<double>(), 1e-9);
    m.that(wait["class"] == "io-bound", "sleep is " + wait["class"].get<std::string>());
    m.near("sleep sleeping_s", wait["sleeping_s"], 200 * 0.005, 0.1 * 200 * 0.005);
    m.that(wait["cpu_s"].get<double>() < 0.1 * 200 * 0.005, "sleep used CPU");
    // The loops are among the other processes; on a machine busy with more, those are too.
    const double other = report["machine"]["other_cpu_share"];
    m.that(other >= loops_share - 0.15 && other <= loops_share + background_share + 0.15,
           "other_cpu_share " + std::to_string(other) + ", the loops took " +
               std::to_string(loops_share) + " beside a background of " +
               std::to_string(background_share));
    m.that(loops_share > 0.05, "the loops took only " + std::to_string(loops_share));
    bool says_other = false;
    for (const auto& line : report["conclusions"]) {
      says_other |= line.get<std::string>().find("other processes used") != std::string::npos;
    }
    m.that(says_other, "no conclusion names the other processes' share");
    return m;
  });
}

// Two parallel CPU stages keep both oneTBB threads busy: frames wait in the stages' queues for
// a thread, which is not starvation, and more frames in flight would not help.
TEST_F(ProfilerTruth, TwoParallelStagesSaturatingTheThreadsWaitForAThreadNotForInput) {
  expect_truth([&] {
    double loops_share = 0;
    const auto report = run_beside_loops(
        "  - {type: decode, params: {threads: 1}}\n"
        "  - {name: first, type: spin, concurrency: unlimited, params: {ms: 4}}\n"
        "  - {name: second, type: spin, concurrency: unlimited, params: {ms: 4}}\n"
        "  - {type: discard}\n",
        2, 2, loops_share);
    Mismatches m;
    const std::string limit = report["limited_by"];
    m.that(limit == "threads" || limit == "cores", "limited by " + limit);
    for (const auto& advice : report["advice"]) {
      m.that(advice["key"] != "pipeline.max_frames_in_flight", "advice " + advice.dump());
    }
    // The frames queue at the first stage; the thread that finishes a frame there runs the
    // second stage on it at once, so the second stage's idle time is really no input yet.
    const auto& first = stage(report, "first");
    m.that(first["waiting_for_thread_s"].get<double>() > first["starved_s"].get<double>(),
           "first waited for a thread " + first["waiting_for_thread_s"].dump() + " s, starved " +
               first["starved_s"].dump() + " s");
    return m;
  });
}

// An io stage at concurrency 1 limits the run whatever the machine's load, since it sleeps:
// the advice predicts the fps of concurrency 2, and a run with it applied measures that fps.
TEST_F(ProfilerTruth, AdvicePredictsTheFpsARunWithItMeasuresUnderLoad) {
  expect_truth([&] {
    double loops_share = 0;
    const std::string pipeline =
        "  - {type: decode, params: {threads: 1}}\n"
        "  - {name: upload, type: sleep, concurrency: CONCURRENCY, "
        "params: {ms: 10}}\n"
        "  - {type: discard}\n";
    auto with = [&](const std::string& concurrency) {
      auto text = pipeline;
      text.replace(text.find("CONCURRENCY"), 11, concurrency);
      return text;
    };
    const auto before = run_beside_loops(with("1"), 2, 2, loops_share);
    Mismatches m;
    m.that(before["limited_by"] == "stage" && before["bottleneck"] == "upload",
           "limited by " + before["limited_by"].dump() + " " + before["bottleneck"].dump());
    if (before["advice"].empty()) {
      m.that(false, "no advice");
      return m;
    }
    const auto& advice = before["advice"][0];
    m.that(advice["key"] == "stages.upload.concurrency" && advice["to"] == "2",
           "advice " + advice.dump());
    const double predicted = advice["predicted_fps"];
    m.near("predicted fps over measured", predicted / before["fps"].get<double>(), 2.0, 0.2);
    const auto after = run_beside_loops(with(advice["to"].get<std::string>()), 2, 2, loops_share);
    m.near("measured fps after the advice", after["fps"], predicted, 0.2 * predicted);
    return m;
  });
}

TEST_F(ProfilerTruth, SlowSerialSpinIsTheBottleneckAndAdviceNamesItsConcurrency) {
  expect_truth([&] {
    const auto report =
        run("  - {type: decode, params: {threads: 1}}\n"
            "  - {name: light, type: spin, concurrency: 4, params: {ms: 1}}\n"
            "  - {name: heavy, type: spin, concurrency: 1, params: {ms: 8}}\n"
            "  - {type: discard}\n");
    Mismatches m;
    m.that(report["bottleneck"] == "heavy", "bottleneck " + report["bottleneck"].dump());
    m.that(stage(report, "heavy")["utilization"].get<double>() > 0.85, "heavy not saturated");
    // The light stage waited for frames most of the time: its workers were starved.
    m.that(stage(report, "light")["starved_s"].get<double>() >
               stage(report, "light")["busy_s"].get<double>(),
           "light stage not starved");
    if (report["limited_by"] != "stage") {
      // Other work on the machine took the cores the model would give a second worker.
      m.that(report["machine"]["other_cpu_share"].get<double>() > 0.1,
             "limited by " + report["limited_by"].dump() + " on a quiet machine");
      return m;
    }
    if (report["advice"].empty()) {
      m.that(false, "no advice: " + report["conclusions"].dump());
      return m;
    }
    const auto& advice = report["advice"][0];
    m.that(
        advice["key"] == "stages.heavy.concurrency" && advice["from"] == "1" && advice["to"] == "2",
        "advice " + advice.dump());
    m.that(advice["predicted_fps"].get<double>() >= 1.05 * report["fps"].get<double>(),
           "predicted gain under 5%");
    return m;
  });
}

TEST_F(ProfilerTruth, IoBoundBottleneckIsAdvisedMoreConcurrencyNotCores) {
  const auto report =
      run("  - {type: decode, params: {threads: 1}}\n"
          "  - {name: upload, type: sleep, concurrency: 2, params: {ms: 10}}\n"
          "  - {type: discard}\n");
  EXPECT_EQ(report["bottleneck"], "upload");
  EXPECT_EQ(stage(report, "upload")["class"], "io-bound");
  ASSERT_FALSE(report["advice"].empty()) << report.dump(2);
  EXPECT_EQ(report["advice"][0]["key"], "stages.upload.concurrency");
  EXPECT_EQ(report["advice"][0]["to"], "4");
  EXPECT_NE(report["advice"][0]["reason"].get<std::string>().find("io-bound"), std::string::npos);
  // Two sleeps of 10 ms at once: about 200 fps at best, so 200 frames take about 1 s.
  EXPECT_NEAR(report["wall_s"].get<double>(), 1.0, 0.35);
}

TEST_F(ProfilerTruth, ParallelWorkThatFillsTheCoresMakesThemTheLimit) {
  // Per frame 2 ms × cores of parallel spin and 1 ms of serial spin: the cores need about
  // 2 ms + 1 ms / cores of wall time per frame, of which the serial stage is busy 1 ms (~50%).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  expect_truth([&] {
    const auto report =
        run("  - {type: decode, params: {threads: 1}}\n"
            "  - {name: wide, type: spin, concurrency: unlimited, params: {ms: " +
                std::to_string(2 * cores) +
                "}}\n"
                "  - {name: narrow, type: spin, concurrency: 1, params: {ms: 1}}\n"
                "  - {type: discard}\n",
            cores);
    Mismatches m;
    // The cores were busy: with this run's work, or other processes' on a busy machine.
    m.that(report["machine"]["busy_share"].get<double>() >= 0.9,
           "cores busy " + report["machine"]["busy_share"].dump() + " < 0.9");
    m.that(report["limited_by"] == "cores", "limited by " + report["limited_by"].dump());
    m.that(stage(report, "narrow")["utilization"].get<double>() < 0.8, "narrow stage busy >= 80%");
    for (const auto& advice : report["advice"]) {
      m.that(advice["key"].get<std::string>().find("concurrency") == std::string::npos,
             "advice " + advice["key"].get<std::string>());
    }
    return m;
  });
}

TEST_F(ProfilerTruth, OneThreadForTwoParallelStagesOnMoreCoresMakesTheThreadsTheLimit) {
  // Per frame 2 × 5 ms of spin on 1 oneTBB thread: the thread is in stage calls ~100% of the
  // run, each stage ~50%, and the process uses about one of the cores. The spins are long
  // enough that the engine's own work between calls, several times slower under a sanitizer,
  // stays a few percent of the run.
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores < 2) GTEST_SKIP() << "needs 2 cores";
  expect_truth([&] {
    const auto report =
        run("  - {type: decode, params: {threads: 1}}\n"
            "  - {name: first, type: spin, concurrency: unlimited, params: {ms: 5}}\n"
            "  - {name: second, type: spin, concurrency: unlimited, params: {ms: 5}}\n"
            "  - {type: discard}\n",
            1);
    Mismatches m;
    m.near("threads utilization", report["cpu"]["threads_utilization"].get<double>(), 1.0, 0.08);
    if (report["limited_by"] == "cores") {
      // Other work on the machine left this run less than a second core.
      m.that(report["machine"]["other_cpu_share"].get<double>() > 0.1,
             "limited by the cores on a quiet machine");
      return m;
    }
    m.that(report["limited_by"] == "threads", "limited by " + report["limited_by"].dump());
    m.that(report["advice"].size() == 1 && report["advice"][0]["key"] == "pipeline.threads" &&
               report["advice"][0]["to"] == std::to_string(cores),
           "advice " + report["advice"].dump());
    return m;
  });
}

}  // namespace
}  // namespace framepipe::testing
