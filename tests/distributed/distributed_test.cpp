// Distributed batches through the framepipe binary: shards merged with `report merge` add up to
// the single-machine batch; `run --mpi` under mpirun makes the same outputs; a worker rank
// killed mid-batch ends the run, leaves nothing half-written at a final path, and `--resume`
// finishes the rest.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/support/media.h"

extern char** environ;

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBinary = FRAMEPIPE_BINARY;

bool built_with_mpi() {
  return capture(shell_quote(kBinary) + " run --help").find("built without MPI") ==
         std::string::npos;
}

std::string mpirun(int ranks) {
  // Tests run as root here; Open MPI refuses that without these. Under AddressSanitizer
  // (scripts/sanitize.sh) the ranks skip leak checking: Open MPI leaves allocations in plugins
  // it unloads at MPI_Finalize, which LeakSanitizer reports without symbols to suppress them
  // by. The batch code the ranks run is leak-checked in the single-process tests.
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
         "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" mpirun -n " +
         std::to_string(ranks) + " --oversubscribe" +
         (getuid() == 0 ? " --allow-run-as-root" : "") + " ";
}

// The .avi outputs under `dir` and their frame counts, by path relative to `dir` (ffprobe).
std::map<std::string, std::int64_t> outputs_of(const fs::path& dir) {
  std::map<std::string, std::int64_t> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() == ".avi" && !entry.path().filename().string().starts_with(".")) {
      found[entry.path().lexically_relative(dir).generic_string()] = frame_count(entry.path());
    }
  }
  return found;
}

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-distributed");
    in_ = dir_ / "in";
    fs::create_directories(in_ / "sub");
    config_ = dir_ / "batch.yaml";
    write_config("");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_config(const std::string& middle_stage) {
    std::ofstream(config_) << "pipeline: {files_in_parallel: 1, threads: 1}\n"
                              "stages:\n"
                              "  - {type: decode}\n"
                           << middle_stage
                           << "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  }

  // `count` clips of 1 to 4 seconds at 10 fps (so of different sizes), some in a subfolder.
  std::map<std::string, std::int64_t> make_clips(int count, int max_seconds = 4) {
    std::map<std::string, std::int64_t> frames;
    for (int i = 0; i < count; ++i) {
      const int seconds = 1 + i % max_seconds;
      const auto source =
          make_clip("distributed-" + std::to_string(seconds) + "s.mp4",
                    "-f lavfi -i testsrc2=size=64x48:rate=10:duration=" + std::to_string(seconds) +
                        " -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
      const auto relative =
          (i % 3 == 0 ? "sub/" : "") + std::string("clip") + std::to_string(i) + ".mp4";
      fs::copy_file(source, in_ / relative);
      frames[relative] = seconds * 10;
    }
    return frames;
  }

  CommandResult run(const fs::path& out, const std::string& args, const std::string& env = "") {
    return run_shell("env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX " + env + " " +
                     shell_quote(kBinary) + " run " + shell_quote(config_.string()) + " --input " +
                     shell_quote(in_.string()) + " --output " + shell_quote(out.string()) + " -q " +
                     args);
  }

  fs::path dir_, in_, config_;
};

TEST_F(DistributedTest, ShardsMergeToTheSingleMachineBatch) {
  const auto clips = make_clips(9);
  const auto single = dir_ / "single";
  ASSERT_EQ(run(single, "").exit_code, 0);
  const auto reference = read_json(single / "report/batch.json")["totals"];
  ASSERT_EQ(reference["files"], 9);

  for (int count = 1; count <= 4; ++count) {
    SCOPED_TRACE(std::to_string(count) + " shards");
    const auto out = dir_ / ("out-" + std::to_string(count));
    std::set<std::string> seen;
    for (int k = 0; k < count; ++k) {
      // 2 shards from a Slurm array's variables, 3 from a Kubernetes Indexed Job's, the others
      // from --shard.
      const auto k_text = std::to_string(k);
      const auto n_text = std::to_string(count);
      const auto result =
          count == 2
              ? run(out, "", "SLURM_ARRAY_TASK_ID=" + k_text + " SLURM_ARRAY_TASK_COUNT=" + n_text)
          : count == 3
              ? run(out, "", "JOB_COMPLETION_INDEX=" + k_text + " FRAMEPIPE_SHARD_COUNT=" + n_text)
              : run(out, "--shard " + k_text + "/" + n_text);
      ASSERT_EQ(result.exit_code, 0) << result.output;
      const auto shard_dir = out / "report" / ("shard-" + k_text + "-of-" + n_text);
      const auto batch = read_json(shard_dir / "batch.json");
      EXPECT_EQ(batch["shard"]["index"], k);
      for (const auto& file : batch["files"]) {
        EXPECT_TRUE(seen.insert(file["relative"].get<std::string>()).second)
            << file["relative"] << " is in two shards";
      }
    }
    // Every input in exactly one shard.
    std::set<std::string> inputs;
    for (const auto& [relative, frames] : clips) inputs.insert(relative);
    EXPECT_EQ(seen, inputs);

    const auto merge =
        run_shell(shell_quote(kBinary) + " report merge " + shell_quote((out / "report").string()));
    ASSERT_EQ(merge.exit_code, 0) << merge.output;
    const auto merged = read_json(out / "report/batch.json");
    for (const auto* key : {"files", "ok", "failed", "frames"}) {
      EXPECT_EQ(merged["totals"][key], reference[key]) << key;
    }
    EXPECT_EQ(merged["shards"].size(), static_cast<std::size_t>(count));
    EXPECT_TRUE(merged["slowest_shard"].get<std::string>().starts_with("shard-"));
    // Per-stage figures summed over every file's report: each stage saw every frame.
    ASSERT_FALSE(merged["stages"].empty());
    for (const auto& stage : merged["stages"]) {
      EXPECT_EQ(stage["items"], reference["frames"]) << stage["name"];
      EXPECT_EQ(stage["files"], 9) << stage["name"];
    }
    // Each file's row links to a report that exists, relative to the merged report.
    for (const auto& file : merged["files"]) {
      EXPECT_TRUE(fs::exists(out / "report" / file["report"].get<std::string>() / "report.json"))
          << file["report"];
    }
    const std::string html = read_text(out / "report/batch.html");
    EXPECT_NE(html.find("<table class=\"shards\">"), std::string::npos);
    EXPECT_NE(html.find("<table class=\"stages\">"), std::string::npos);
  }
  // The outputs are the single machine's, frame for frame (ffprobe).
  const auto expected = outputs_of(single);
  ASSERT_EQ(expected.size(), 9u);
  for (const auto& [relative, frames] : clips) {
    const auto avi = fs::path(relative).replace_extension(".avi").generic_string();
    EXPECT_EQ(expected.at(avi), frames) << avi;
  }
  EXPECT_EQ(outputs_of(dir_ / "out-4"), expected);
  EXPECT_EQ(outputs_of(dir_ / "out-3"), expected);
}

TEST_F(DistributedTest, ResumeSeesWhatOtherShardsCompleted) {
  make_clips(6);
  const auto out = dir_ / "out";
  ASSERT_EQ(run(out, "--shard 0/2").exit_code, 0);
  ASSERT_EQ(run(out, "--shard 1/2").exit_code, 0);
  // An unsharded resume finds every file in the shards' manifests.
  const auto resumed = run(out, "--resume --shard off");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(read_json(out / "report/batch.json")["totals"]["skipped"], 6);
}

TEST_F(DistributedTest, MergingReportsOfTwoDifferentSplitsIsAnError) {
  make_clips(4);
  ASSERT_EQ(run(dir_ / "a", "--shard 0/1").exit_code, 0);
  ASSERT_EQ(run(dir_ / "b", "--shard 0/2").exit_code, 0);
  const auto merge = run_shell(shell_quote(kBinary) + " report merge " +
                               shell_quote((dir_ / "a/report/shard-0-of-1").string()) + " " +
                               shell_quote((dir_ / "b/report/shard-0-of-2").string()) + " -o " +
                               shell_quote((dir_ / "merged").string()));
  EXPECT_EQ(merge.exit_code, 1) << merge.output;
  EXPECT_NE(merge.output.find("merge the shards of one sharded run"), std::string::npos)
      << merge.output;
  EXPECT_FALSE(fs::exists(dir_ / "merged/batch.json"));
  const auto missing =
      run_shell(shell_quote(kBinary) + " report merge " + shell_quote((dir_ / "nowhere").string()));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("no batch.json here"), std::string::npos) << missing.output;
}

TEST_F(DistributedTest, MpiRanksMakeTheSameOutputsAsOneProcess) {
  if (!built_with_mpi()) GTEST_SKIP() << "framepipe was built without MPI (no libopenmpi-dev)";
  const auto clips = make_clips(20, 3);
  const auto single = dir_ / "single";
  ASSERT_EQ(run(single, "").exit_code, 0);
  const auto out = dir_ / "mpi";
  const auto result =
      run_shell(mpirun(3) + shell_quote(kBinary) + " run " + shell_quote(config_.string()) +
                " --mpi --input " + shell_quote(in_.string()) + " --output " +
                shell_quote(out.string()) + " -q");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(outputs_of(out), outputs_of(single));
  EXPECT_EQ(outputs_of(out).size(), 20u);
  const auto batch = read_json(out / "report/batch.json");
  const auto reference = read_json(single / "report/batch.json");
  EXPECT_EQ(batch["totals"]["frames"], reference["totals"]["frames"]);
  EXPECT_EQ(batch["totals"]["ok"], 20);
  // Two worker ranks; between them they did every file and frame.
  ASSERT_EQ(batch["ranks"].size(), 2u);
  int files = 0;
  std::int64_t frames = 0;
  for (const auto& rank : batch["ranks"]) {
    EXPECT_FALSE(rank["lost"].get<bool>());
    files += rank["files"].get<int>();
    frames += rank["frames"].get<std::int64_t>();
  }
  EXPECT_EQ(files, 20);
  EXPECT_EQ(frames, reference["totals"]["frames"].get<std::int64_t>());
  const std::string html = read_text(out / "report/batch.html");
  EXPECT_NE(html.find("<table class=\"ranks\">"), std::string::npos);
  // Each file's report was written by the rank that ran it, where batch.json says.
  for (const auto& file : batch["files"]) {
    EXPECT_TRUE(fs::exists(out / "report" / file["report"].get<std::string>() / "report.json"));
  }
}

// The pid of MPI rank `rank` of a framepipe whose command line mentions `marker`, or 0.
pid_t find_rank(int rank, const std::string& marker) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string command = read_text(entry.path() / "cmdline");
    if (command.find(marker) == std::string::npos || command.find("--mpi") == std::string::npos ||
        command.starts_with("mpirun")) {
      continue;
    }
    const std::string env = read_text(entry.path() / "environ");
    if (env.find(std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0') !=
        std::string::npos) {
      return static_cast<pid_t>(std::stoi(name));
    }
  }
  return 0;
}

class MpiKillTest : public DistributedTest {
 protected:
  // Starts mpirun -n 3 over 12 slow files (0.5 s each), kills rank 1 with SIGKILL once it has
  // completed a file and is 0.15 s into the next, and waits for mpirun to end. Returns its exit
  // status.
  int run_and_kill_a_worker(const std::string& mpirun_args) {
    write_config("  - {type: sleep, params: {ms: 50}}\n");
    clips_ = make_clips(12, 1);
    out_ = dir_ / "out";
    const std::string command = mpirun(3) + mpirun_args + " " + shell_quote(kBinary) + " run " +
                                shell_quote(config_.string()) + " --mpi --mpi-timeout 3 --input " +
                                shell_quote(in_.string()) + " --output " +
                                shell_quote(out_.string()) + " -q";
    std::vector<std::string> args = {"/bin/sh", "-c", command};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // In a process group of its own, so a hung mpirun and its ranks can all be killed.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, &attributes, argv.data(), environ), 0);
    posix_spawnattr_destroy(&attributes);
    const auto manifest = out_ / ".framepipe-manifest-rank-1.json";
    auto deadline = std::chrono::steady_clock::now() + 60s;
    pid_t victim = 0;
    while (std::chrono::steady_clock::now() < deadline && victim == 0) {
      if (fs::exists(manifest)) victim = find_rank(1, out_.string());
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_NE(victim, 0) << "rank 1 never completed a file";
    // Well into its next file (each takes 0.5 s), not between two.
    std::this_thread::sleep_for(150ms);
    if (victim != 0) kill(victim, SIGKILL);
    // A generous bound: the run must end, not hang.
    deadline = std::chrono::steady_clock::now() + 90s;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "mpirun did not end within 90 s of a rank's death";
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // Every output at a final path is complete (ffprobe); returns how many there are.
  int complete_outputs() {
    int complete = 0;
    for (const auto& [relative, frames] : clips_) {
      const auto avi = out_ / fs::path(relative).replace_extension(".avi");
      if (!fs::exists(avi)) continue;
      EXPECT_EQ(frame_count(avi), frames) << avi;
      ++complete;
    }
    return complete;
  }

  // `--resume` (one process) finishes what is missing and skips what is done.
  void resume_finishes_the_rest() {
    const auto done = complete_outputs();
    const auto resumed = run(out_, "--resume");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    const auto totals = read_json(out_ / "report/batch.json")["totals"];
    EXPECT_EQ(totals["skipped"].get<int>() + totals["ok"].get<int>(), 12);
    EXPECT_LE(totals["skipped"].get<int>(), done);
    EXPECT_GE(totals["skipped"].get<int>(), 1);
    EXPECT_EQ(complete_outputs(), 12);
  }

  std::map<std::string, std::int64_t> clips_;
  fs::path out_;
};

TEST_F(MpiKillTest, WithRecoveryTheDeadRanksFileFailsAndTheOthersFinish) {
  if (!built_with_mpi()) GTEST_SKIP() << "framepipe was built without MPI (no libopenmpi-dev)";
  // mpirun --enable-recovery (Open MPI 4.1) exits 0 whatever the ranks return, MPI_Abort's code
  // included: the report says what happened. That it exits at all is the check: rank 0 ends
  // the job once the batch is done, as MPI_Finalize could wait for the dead rank forever.
  run_and_kill_a_worker("--enable-recovery");
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["files"], 12);
  bool rank1_lost = false;
  for (const auto& rank : batch["ranks"]) {
    if (rank["rank"] == 1) rank1_lost = rank["lost"].get<bool>();
  }
  EXPECT_TRUE(rank1_lost);
  // It was killed mid-file: that file failed, naming the rank; the survivor did the rest.
  EXPECT_GE(batch["totals"]["failed"].get<int>(), 1);
  for (const auto& file : batch["files"]) {
    const fs::path relative = file["relative"].get<std::string>();
    const auto avi = out_ / fs::path(relative).replace_extension(".avi");
    if (file["status"] == "failed") {
      EXPECT_NE(file["error"].get<std::string>().find("MPI rank 1 was lost"), std::string::npos)
          << file["error"];
      EXPECT_FALSE(fs::exists(avi)) << avi;
    } else {
      EXPECT_EQ(file["status"], "ok");
      EXPECT_TRUE(fs::exists(avi)) << avi;
    }
  }
  resume_finishes_the_rest();
}

TEST_F(MpiKillTest, WithoutRecoveryMpirunEndsAndResumeFinishes) {
  if (!built_with_mpi()) GTEST_SKIP() << "framepipe was built without MPI (no libopenmpi-dev)";
  // Open MPI's default: a rank killed by a signal aborts the whole job.
  EXPECT_NE(run_and_kill_a_worker(""), 0);
  resume_finishes_the_rest();
}

}  // namespace
}  // namespace framepipe::testing
