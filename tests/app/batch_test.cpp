// Batches through the framepipe binary: bad files fail alone, outputs are atomic, a cancelled
// batch resumes where it stopped, odd file names work.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

extern char** environ;

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using reliability::hidden_leftovers;
using reliability::kBinary;

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-batch");
    in_ = dir_ / "in";
    fs::create_directories(in_ / "sub");
    fs::create_directories(in_ / "with space");
    config_ = dir_ / "batch.yaml";
    std::ofstream(config_) << "pipeline: {files_in_parallel: 2, max_frames_in_flight: 6}\n"
                              "stages:\n"
                              "  - {type: decode}\n"
                              "  - {type: gaussian_blur}\n"
                              "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A good 10-frame clip at `relative` under the input folder.
  fs::path good(const std::string& relative) {
    const auto source = make_clip("batch-64x48-10f.mp4",
                                  "-f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v "
                                  "libx264 -preset ultrafast -pix_fmt yuv420p");
    const auto path = in_ / relative;
    fs::copy_file(source, path);
    return path;
  }

  CommandResult run(const std::string& args) {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote(config_.string()) + " " + args);
  }

  fs::path dir_, in_, config_;
};

TEST_F(BatchTest, BadFilesFailAloneAndLeaveNothingBehind) {
  std::vector<fs::path> goods;
  for (int i = 0; i < 24; ++i) goods.push_back(good("clip" + std::to_string(i) + ".mp4"));
  goods.push_back(good("sub/-leading-dash.mp4"));
  goods.push_back(good("with space/한국어 영상.mp4"));
  // The bad ones: empty, not a video, cut short, random bytes over the middle.
  std::ofstream(in_ / "empty.mp4");
  std::ofstream(in_ / "notes.mp4") << "this is not a video\n";
  {
    const auto clip = good("truncated.mp4");
    fs::resize_file(clip, fs::file_size(clip) / 3);
  }
  {
    const auto clip = good("overwritten.mp4");
    std::fstream file(clip, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(600);
    for (int i = 0; i < 2000; ++i) file.put(static_cast<char>((i * 7919) % 251));
  }
  const auto out = dir_ / "out";
  const auto result = run("--input " + shell_quote(in_.string()) + " --output " +
                          shell_quote(out.string()) + " --quiet");
  EXPECT_EQ(result.exit_code, 1) << result.output;

  const auto batch = read_json(out / "report/batch.json");
  EXPECT_EQ(batch["totals"]["files"], 30);
  EXPECT_EQ(batch["totals"]["ok"].get<int>() + batch["totals"]["damaged"].get<int>(), 26)
      << result.output;
  EXPECT_EQ(batch["totals"]["failed"], 4);
  for (const auto& file : batch["files"]) {
    const fs::path relative = file["relative"].get<std::string>();
    const auto output = out / relative.parent_path() / (relative.stem().string() + ".avi");
    if (file["status"] == "failed") {
      EXPECT_FALSE(fs::exists(output)) << output;
      // One error line names the file.
      EXPECT_NE(result.output.find("error: " + file["input"].get<std::string>() + ": "),
                std::string::npos)
          << file["input"];
    } else {
      ASSERT_TRUE(fs::exists(output)) << output;
      EXPECT_EQ(frame_count(output), 10) << output;
      EXPECT_EQ(file["frames"], 10);
    }
  }
  EXPECT_TRUE(hidden_leftovers(out).empty());
  // One frames-in-flight budget for the whole batch: never above its cap.
  for (const auto& used : batch["budget"]["in_use"]) EXPECT_LE(used.get<int>(), 6);
  EXPECT_TRUE(fs::exists(out / "report/with space/한국어 영상.mp4/report.html"));
}

TEST_F(BatchTest, ListFileAndStdinName) {
  const auto a = good("a.mp4");
  const auto b = good("b b.mp4");
  std::ofstream(dir_ / "list.txt") << "# inputs\n" << a.string() << "\n\nin/b b.mp4\n";
  const auto from_file = run("--input-list " + shell_quote((dir_ / "list.txt").string()) +
                             " --output " + shell_quote((dir_ / "o1").string()) + " -q");
  EXPECT_EQ(from_file.exit_code, 0) << from_file.output;
  EXPECT_EQ(frame_count(dir_ / "o1/a.avi"), 10);
  EXPECT_EQ(frame_count(dir_ / "o1/b b.avi"), 10);
  const auto from_stdin =
      run_shell("printf '%s\\n' " + shell_quote(a.string()) + " | " + shell_quote(kBinary) +
                " run " + shell_quote(config_.string()) + " --input-list - --output " +
                shell_quote((dir_ / "o2").string()));
  EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.output;
  EXPECT_TRUE(fs::exists(dir_ / "o2/a.avi"));
  EXPECT_FALSE(fs::exists(dir_ / "o2/b b.avi"));
}

TEST_F(BatchTest, InterruptedBatchResumesWithOnlyTheRest) {
  for (int i = 0; i < 8; ++i) good("clip" + std::to_string(i) + ".mp4");
  // 30 ms per frame: each file takes about 0.3 s, one at a time.
  std::ofstream(config_) << "pipeline: {files_in_parallel: 1}\n"
                            "stages:\n"
                            "  - {type: decode}\n"
                            "  - {type: sleep, params: {ms: 30}}\n"
                            "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  const auto out = dir_ / "out";
  std::vector<std::string> args = {kBinary,      "run",      config_.string(), "--input",
                                   in_.string(), "--output", out.string(),     "--quiet"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, kBinary.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  // Interrupt once two files are complete.
  const auto manifest = out / ".framepipe-manifest.json";
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(manifest) && read_json(manifest)["files"].size() >= 2) break;
    std::this_thread::sleep_for(20ms);
  }
  const auto interrupted_at = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  const auto stopped_within = std::chrono::steady_clock::now() - interrupted_at;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_LT(stopped_within, 2s);
  const auto done_before = read_json(out / "report/batch.json")["totals"]["ok"].get<int>();
  EXPECT_GE(done_before, 2);
  EXPECT_LT(done_before, 8) << "the interrupt came too late to test anything";
  EXPECT_TRUE(hidden_leftovers(out).empty());
  int finished_outputs = 0;
  for (int i = 0; i < 8; ++i)
    finished_outputs += fs::exists(out / ("clip" + std::to_string(i) + ".avi"));
  EXPECT_EQ(finished_outputs, done_before) << "a cancelled file left an output";

  const auto resumed = run("--input " + shell_quote(in_.string()) + " --output " +
                           shell_quote(out.string()) + " --resume --quiet");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto totals = read_json(out / "report/batch.json")["totals"];
  EXPECT_EQ(totals["skipped"].get<int>(), done_before);
  EXPECT_EQ(totals["ok"].get<int>(), 8 - done_before);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(frame_count(out / ("clip" + std::to_string(i) + ".avi")), 10);
}

}  // namespace
}  // namespace framepipe::testing
