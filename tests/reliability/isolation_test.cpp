// pipeline.isolation: process: a crash in one file's run (here the fail stage's SIGSEGV or
// abort(), as a bug in libav would) fails that file alone; on threads it ends the whole batch.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

using namespace std::chrono_literals;

// Whether the binary under test was built with AddressSanitizer, whose own SIGSEGV handler ends
// a process with exit code 1 after its report instead of dying of the signal.
constexpr bool kUnderAddressSanitizer =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif

// The worker processes of a batch, as their parent lists them.
std::set<pid_t> children_of(pid_t pid) {
  std::set<pid_t> children;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream list(task.path() / "children");
    for (pid_t child; list >> child;) children.insert(child);
  }
  return children;
}

class IsolationTest : public FoldersTest {
 protected:
  IsolationTest() : FoldersTest("framepipe-isolation") {}

  // a.mp4 and c.mp4 of 3 frames, b.mp4 of 10: a stage that crashes at frame 5 crashes on b only.
  void add_inputs() {
    fs::copy_file(tiny_clip(), in_ / "a.mp4");
    fs::copy_file(small_clip(), in_ / "b.mp4");
    fs::copy_file(tiny_clip(), in_ / "c.mp4");
  }

  fs::path config(const std::string& isolation, const std::string& crash) {
    return write_file(dir_ / ("p-" + isolation + "-" + crash + ".yaml"),
                      "pipeline: {files_in_parallel: 2, isolation: " + isolation +
                          "}\nstages:\n  - {type: decode}\n"
                          "  - {name: boom, type: fail, params: {at_frame: 5, crash: " +
                          crash +
                          "}}\n"
                          "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n");
  }

  // Starts the batch of `stages` (YAML lines) over 3 clips, 2 files at once in worker
  // processes; returns its pid and its 2 workers once both are there (no workers: timed out).
  std::pair<pid_t, std::set<pid_t>> start_with_two_workers(const std::string& stages) {
    write_file(dir_ / "p.yaml",
               "pipeline: {files_in_parallel: 2, isolation: process}\nstages:\n" + stages);
    add_clips(3);
    const pid_t pid = spawn_framepipe(
        {"run", (dir_ / "p.yaml").string(), "-i", in_.string(), "-o", out_.string(), "-q"});
    std::set<pid_t> workers;
    if (pid <= 0 || !wait_for_sigint_handler(pid, 20s)) return {pid, workers};
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         workers.size() < 2 && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(10ms)) {
      workers = children_of(pid);
    }
    return {pid, workers};
  }

  CommandResult run(const fs::path& config, const fs::path& out, const std::string& extra = "") {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote(config.string()) + " -i " +
                     shell_quote(in_.string()) + " -o " + shell_quote(out.string()) + " -q " +
                     extra + " 2>&1");
  }
};

class CrashIsolationTest : public IsolationTest,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(CrashIsolationTest, ACrashFailsOnlyItsFileUnderProcessIsolation) {
  const std::string crash = GetParam();
  const std::string signal = crash == "segfault" ? "SIGSEGV" : "SIGABRT";
  add_inputs();

  // On threads, the crash takes the whole batch down: no batch report, a temporary left behind.
  const auto threaded_out = dir_ / "threaded";
  const auto threaded = run(config("thread", crash), threaded_out);
  if (!(kUnderAddressSanitizer && crash == "segfault")) {
    EXPECT_EQ(threaded.exit_code, 128 + (crash == "segfault" ? SIGSEGV : SIGABRT))
        << threaded.output;
  }
  EXPECT_FALSE(fs::exists(threaded_out / "report/batch.json"));
  EXPECT_FALSE(hidden_leftovers(threaded_out).empty());

  const auto result = run(config("process", crash), out_);
  EXPECT_EQ(result.exit_code, 1) << result.output;  // a batch with a failed file
  // One error line; besides it only the batch's own lines (a sanitizer's report from the
  // worker would come too).
  std::vector<std::string> errors, others;
  for (const auto& line : lines_of(result.output)) {
    if (line.starts_with("error: ")) {
      errors.push_back(line);
    } else if (!line.starts_with("batch: ") && !line.starts_with("report: ")) {
      others.push_back(line);
    }
  }
  ASSERT_EQ(errors.size(), 1u) << result.output;
  if (!kUnderAddressSanitizer) {
    EXPECT_TRUE(others.empty()) << result.output;
  }
  const auto& error = errors[0];
  const auto b = (in_ / "b.mp4").string();
  EXPECT_TRUE(error.starts_with("error: " + b + ": ")) << error;
  EXPECT_TRUE(error.ends_with("; nothing of this file was kept")) << error;
  // AddressSanitizer may keep the SIGSEGV to itself; the line then gives the exit code.
  if (!(kUnderAddressSanitizer && crash == "segfault")) {
    EXPECT_EQ(error, "error: " + b +
                         ": frame 5: stage 'boom' (fail): the worker process crashed (" + signal +
                         "); nothing of this file was kept");
  }

  // The others are complete, as ffprobe counts them; the crashed one left nothing.
  EXPECT_EQ(frame_count((out_ / "a.avi").string()), 3);
  EXPECT_EQ(frame_count((out_ / "c.avi").string()), 3);
  EXPECT_FALSE(fs::exists(out_ / "b.avi"));
  EXPECT_TRUE(hidden_leftovers(out_).empty()) << hidden_leftovers(out_).front();

  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["files"], 3);
  EXPECT_EQ(batch["totals"]["ok"], 2);
  EXPECT_EQ(batch["totals"]["failed"], 1);
  for (const auto& file : batch["files"]) {
    const auto relative = file["relative"].get<std::string>();
    if (relative == "b.mp4") {
      EXPECT_EQ(file["status"], "failed");
      EXPECT_EQ("error: " + file["error"].get<std::string>(), error);
      EXPECT_TRUE(file["report"].is_null());
    } else {
      EXPECT_EQ(file["status"], "ok") << relative;
      EXPECT_EQ(file["frames"], 3) << relative;
      EXPECT_EQ(file["report"], relative);
      // Each worker wrote its file's report where the batch page links to it.
      EXPECT_EQ(read_json(out_ / "report" / relative / "report.json")["stages"][0]["items"], 3)
          << relative;
    }
  }
  // The manifest records the two that completed, so --resume redoes only b.
  const auto manifest = read_json(out_ / ".framepipe-manifest.json");
  std::set<std::string> recorded;
  for (const auto& [key, entry] : manifest["files"].items()) recorded.insert(key);
  EXPECT_EQ(recorded, (std::set<std::string>{"a.mp4", "c.mp4"})) << manifest.dump();

  // One file at once: the thread whose worker crashed on b starts a new one for c.
  const auto one_out = dir_ / "one-at-once";
  const auto one = run(config("process", crash), one_out, "--set pipeline.files_in_parallel=1");
  EXPECT_EQ(one.exit_code, 1) << one.output;
  const auto one_batch = read_json(one_out / "report/batch.json");
  ASSERT_EQ(one_batch["files"].size(), 3u);
  EXPECT_EQ(one_batch["files"][1]["status"], "failed");
  EXPECT_EQ(one_batch["files"][2]["status"], "ok");
  EXPECT_EQ(frame_count((one_out / "c.avi").string()), 3);
  EXPECT_TRUE(hidden_leftovers(one_out).empty()) << hidden_leftovers(one_out).front();
}

INSTANTIATE_TEST_SUITE_P(Crashes, CrashIsolationTest, ::testing::Values("segfault", "abort"));

// Through a worker, a file gives what it gives on a thread: the same frames, outputs and report.
TEST_F(IsolationTest, ResultsThroughAWorkerEqualAnInProcessRun) {
  add_clips(2);
  const auto config = write_file(dir_ / "p.yaml",
                                 "pipeline: {files_in_parallel: 2}\nstages:\n  - {type: decode}\n"
                                 "  - {type: gaussian_blur}\n  - {type: encode, params: {codec: "
                                 "mpeg4, path: \"{stem}.avi\"}}\n");
  const auto threaded = run(config, dir_ / "threaded");
  ASSERT_EQ(threaded.exit_code, 0) << threaded.output;
  const auto isolated = run(config, out_, "--set pipeline.isolation=process");
  ASSERT_EQ(isolated.exit_code, 0) << isolated.output;
  const auto expected = read_json(dir_ / "threaded/report/batch.json");
  const auto actual = read_json(out_ / "report/batch.json");
  ASSERT_EQ(actual["files"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& want = expected["files"][i];
    const auto& got = actual["files"][i];
    for (const char* key : {"relative", "status", "frames", "expected_frames", "damaged_packets",
                            "error", "report"}) {
      EXPECT_EQ(got[key], want[key]) << key;
    }
    ASSERT_EQ(got["outputs"].size(), 1u);
    const fs::path output = got["outputs"][0].get<std::string>();
    EXPECT_EQ(
        output.lexically_relative(out_),
        fs::path(want["outputs"][0].get<std::string>()).lexically_relative(dir_ / "threaded"));
    EXPECT_EQ(frame_count(output.string()), 10);
    const auto report =
        read_json(out_ / "report" / got["report"].get<std::string>() / "report.json");
    EXPECT_EQ(report["config"]["pipeline"]["isolation"], "process");
    EXPECT_EQ(report["stages"].size(), 3u);
    for (const auto& stage : report["stages"]) EXPECT_EQ(stage["items"], 10) << stage["name"];
  }
  EXPECT_EQ(actual["totals"]["frames"], expected["totals"]["frames"]);
  // The manifest is the same, so a --resume of either skips both files.
  EXPECT_EQ(read_json(out_ / ".framepipe-manifest.json")["files"].size(), 2u);
  const auto resumed = run(config, out_, "--set pipeline.isolation=process --resume");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(read_json(out_ / "report/batch.json")["totals"]["skipped"], 2);
}

bool alive(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("State:")) return line.find('Z') == std::string::npos;
  }
  return false;
}

// SIGTERM to the batch reaches its workers: those that can stop remove their outputs at once
// and the batch reports them cancelled; none outlives the batch.
TEST_F(IsolationTest, SigtermCancelsTheWorkersAndLeavesNoPartialOutput) {
  const auto [pid, workers] = start_with_two_workers(
      "  - {type: decode}\n  - {type: sleep, params: {ms: 200}}\n"
      "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(workers.size(), 2u);
  std::this_thread::sleep_for(500ms);  // both are in the middle of their files
  const auto signalled = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_bounded(pid, 15s), 130);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 4s);
  for (const pid_t worker : workers) EXPECT_FALSE(alive(worker)) << worker;
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_TRUE(batch["cancelled"].get<bool>());
  EXPECT_EQ(batch["totals"]["cancelled"], 3);
  EXPECT_FALSE(fs::exists(out_ / "clip0.avi"));
  EXPECT_FALSE(fs::exists(out_ / "clip1.avi"));
  EXPECT_TRUE(hidden_leftovers(out_).empty()) << hidden_leftovers(out_).front();
}

// A worker blocked in a call nothing interrupts (a 60 s sleep) cannot keep a cancelled batch
// alive: the batch and its workers are gone within seconds, as without isolation.
TEST_F(IsolationTest, BatchAndBlockedWorkersStopWithinSecondsOfSigterm) {
  const auto [pid, workers] = start_with_two_workers(
      "  - {type: decode}\n  - {type: sleep, params: {ms: 60000}}\n  - {type: discard}\n");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(workers.size(), 2u);
  std::this_thread::sleep_for(1s);  // both workers are in the sleep stage by now
  const auto signalled = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_bounded(pid, 15s), 130);
  // The workers' own 5 s grace ends them; give the kernel a moment to reap them.
  for (auto deadline = std::chrono::steady_clock::now() + 3s;
       std::chrono::steady_clock::now() < deadline &&
       std::any_of(workers.begin(), workers.end(), alive);
       std::this_thread::sleep_for(10ms)) {
  }
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 12s);
  for (const pid_t worker : workers) EXPECT_FALSE(alive(worker)) << worker;
}

}  // namespace
}  // namespace framepipe::testing::reliability
