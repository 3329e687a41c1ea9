// Load the engine must survive: hundreds of files in one batch, one frame in flight shared by
// many threads, and cancellation at random moments. Every child run is bounded in time, so a
// deadlock or a hang fails the test instead of stalling the suite.
#include <gtest/gtest.h>

#include <random>

#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

using namespace std::chrono_literals;

class StressTest : public FoldersTest {
 protected:
  StressTest() : FoldersTest("framepipe-stress") {}
};

TEST_F(StressTest, FiveHundredTinyClipsInOneBatch) {
  constexpr int kFiles = 500;
  const auto clip = tiny_clip();
  for (int i = 0; i < kFiles; ++i) {
    const auto folder = in_ / ("part" + std::to_string(i % 5));
    fs::create_directories(folder);
    fs::copy_file(clip, folder / ("clip" + std::to_string(i) + ".mp4"));
  }
  const auto config = write_file(dir_ / "tiny.yaml",
                                 "pipeline: {files_in_parallel: 4}\n"
                                 "report: {formats: [json]}\n"
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: gaussian_blur}\n"
                                 "  - {type: encode, params: {codec: mpeg4, path: "
                                 "\"{stem}.avi\"}}\n");
  const auto stderr_file = dir_ / "stderr.txt";
  const pid_t pid = spawn_framepipe(
      {"run", config.string(), "-i", in_.string(), "-o", out_.string(), "-q"}, stderr_file);
  ASSERT_GT(pid, 0);
  const auto code = wait_bounded(pid, 280s);
  ASSERT_TRUE(code.has_value()) << "the batch did not finish";
  EXPECT_EQ(*code, 0);
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["files"], kFiles);
  EXPECT_EQ(batch["totals"]["ok"], kFiles);
  EXPECT_EQ(batch["totals"]["frames"], 3 * kFiles);
  for (const auto& file : batch["files"]) EXPECT_EQ(file["frames"], 3) << file["input"];
  EXPECT_EQ(read_json(out_ / ".framepipe-manifest.json")["files"].size(),
            static_cast<std::size_t>(kFiles));
  int outputs = 0;
  for (const auto& path : files_under(out_)) outputs += path.extension() == ".avi";
  EXPECT_EQ(outputs, kFiles);
  EXPECT_TRUE(hidden_leftovers(out_).empty());
  EXPECT_EQ(frame_count(out_ / "part3/clip498.avi"), 3);
}

// One frame in flight for the whole batch, sixteen files at once, stages that would take 64
// frames each, on an arena of 2 threads: every file still finishes.
TEST_F(StressTest, OneFrameInFlightWithConcurrency64Completes) {
  constexpr int kFiles = 16;
  add_clips(kFiles);
  const auto config = write_file(dir_ / "narrow.yaml",
                                 "pipeline: {threads: 2, max_frames_in_flight: 1, "
                                 "files_in_parallel: 16}\n"
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: gaussian_blur, concurrency: 64}\n"
                                 "  - {type: sleep, concurrency: 64, params: {ms: 1}}\n"
                                 "  - {type: encode, params: {codec: mpeg4, path: "
                                 "\"{stem}.avi\"}}\n");
  const pid_t pid =
      spawn_framepipe({"run", config.string(), "-i", in_.string(), "-o", out_.string(), "-q"});
  ASSERT_GT(pid, 0);
  const auto code = wait_bounded(pid, 240s);
  ASSERT_TRUE(code.has_value()) << "deadlock: the batch did not finish";
  EXPECT_EQ(*code, 0);
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["ok"], kFiles);
  EXPECT_EQ(batch["totals"]["frames"], 10 * kFiles);
  for (const auto& used : batch["budget"]["in_use"]) EXPECT_LE(used.get<int>(), 1);
  EXPECT_EQ(frame_count(out_ / "clip7.avi"), 10);
}

// The threads a run uses follow from its config, not from the input's length: a 10-frame and a
// 100-frame clip both stay within what the config asks for.
TEST_F(StressTest, ThreadsFollowTheConfigNotTheInputLength) {
  const auto longer = make_clip("reliability-64x48-100f.mp4",
                                "-f lavfi -i testsrc2=size=64x48:rate=10:duration=10 -c:v libx264 "
                                "-preset ultrafast -pix_fmt yuv420p");
  const auto config = write_file(dir_ / "threads.yaml",
                                 "pipeline: {threads: 2}\n"
                                 "stages:\n"
                                 "  - {type: decode, params: {threads: 1}}\n"
                                 "  - {type: gaussian_blur, concurrency: unlimited}\n"
                                 "  - {type: sleep, concurrency: 3, params: {ms: 2}}\n"
                                 "  - {type: encode, params: {codec: mpeg4, threads: 1, path: "
                                 "\"{stem}.avi\"}}\n");
  std::vector<int> peaks;
  for (const auto& clip : {small_clip(), longer}) {
    int peak = 0;
    const pid_t pid = spawn_framepipe(
        {"run", config.string(), "-i", clip.string(), "-o", (out_ / clip.stem()).string(), "-q"});
    ASSERT_GT(pid, 0);
    const auto code = wait_bounded(pid, 120s, &peak);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0);
    peaks.push_back(peak);
  }
  // main, 2 arena threads, the source, 3 sleep threads, the sampler, libav's own, with room; a
  // thread per frame would pass 100 on the longer clip.
  EXPECT_LE(peaks[0], 16);
  EXPECT_LE(peaks[1], 16) << "a longer input took more threads";
}

// SIGINT after 20 random delays (fixed seed): each run exits within a bound with 130 (or 0 when
// it had finished), writes its batch report, and leaves at the final paths only complete outputs
// of files the report calls done.
TEST_F(StressTest, CancellationAtRandomMomentsNeverHangsOrLeavesPartialOutputs) {
  constexpr int kFiles = 4;
  add_clips(kFiles);
  // About 0.3 s a file, two at a time.
  const auto config = write_file(dir_ / "slow.yaml",
                                 "pipeline: {files_in_parallel: 2}\n"
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: sleep, params: {ms: 30}}\n"
                                 "  - {type: encode, params: {codec: mpeg4, path: "
                                 "\"{stem}.avi\"}}\n");
  std::mt19937 random(20240607);
  std::uniform_int_distribution<int> delay_ms(0, 700);
  int cancelled = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const auto out = out_ / std::to_string(attempt);
    const auto delay = std::chrono::milliseconds(delay_ms(random));
    SCOPED_TRACE("attempt " + std::to_string(attempt) + ", SIGINT after " +
                 std::to_string(delay.count()) + " ms");
    const pid_t pid =
        spawn_framepipe({"run", config.string(), "-i", in_.string(), "-o", out.string(), "-q"});
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_for_sigint_handler(pid, 30s));
    std::this_thread::sleep_for(delay);
    kill(pid, SIGINT);
    const auto code = wait_bounded(pid, 30s);
    ASSERT_TRUE(code.has_value()) << "no exit after SIGINT";
    ASSERT_TRUE(*code == 130 || *code == 0) << *code;
    cancelled += *code == 130;
    const auto batch = read_json(out / "report/batch.json");
    EXPECT_EQ(batch["cancelled"], *code == 130);
    EXPECT_EQ(batch["totals"]["files"], kFiles);
    for (const auto& file : batch["files"]) {
      const auto output =
          out / (fs::path(file["relative"].get<std::string>()).stem().string() + ".avi");
      const auto status = file["status"].get<std::string>();
      if (status == "ok") {
        ASSERT_TRUE(fs::exists(output)) << output;
        EXPECT_EQ(frame_count(output), 10) << output;
      } else {
        EXPECT_EQ(status, "cancelled");
        EXPECT_FALSE(fs::exists(output)) << output;
      }
    }
    EXPECT_TRUE(hidden_leftovers(out).empty());
  }
  EXPECT_GT(cancelled, 0) << "every run had finished before its signal: nothing was tested";
}

}  // namespace
}  // namespace framepipe::testing::reliability
