#pragma once

// What the reliability tests share: the framepipe binary run as a child process with a bound
// on its run time, and checks on what it left in its output folder.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/media.h"

extern char** environ;

namespace framepipe::testing::reliability {

namespace fs = std::filesystem;

inline const std::string kBinary = FRAMEPIPE_BINARY;

// The lines of a program's output.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}
inline const fs::path kSourceDir = FRAMEPIPE_SOURCE_DIR;

// `framepipe ARGS` through the shell (the caller quotes ARGS): its exit code and output.
inline CommandResult framepipe(const std::string& args) {
  return run_shell(shell_quote(kBinary) + " " + args);
}

inline fs::path write_file(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// 10 frames of 64x48, H.264.
inline fs::path small_clip() {
  return make_clip("reliability-64x48-10f.mp4",
                   "-f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

// 3 frames of 16x16, H.264: the smallest clip worth running a batch over.
inline fs::path tiny_clip() {
  return make_clip("reliability-16x16-3f.mp4",
                   "-f lavfi -i testsrc2=size=16x16:rate=10 -frames:v 3 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

// Every file under `dir` whose name starts with '.', other than the manifest: a leftover
// temporary output.
inline std::vector<fs::path> hidden_leftovers(const fs::path& dir) {
  std::vector<fs::path> found;
  if (!fs::exists(dir)) return found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with(".") && name != ".framepipe-manifest.json") found.push_back(entry.path());
  }
  return found;
}

// Every regular file under `dir`, sorted.
inline std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> found;
  if (!fs::exists(dir)) return found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// `framepipe ARGS...` as a child process, with no shell between; its stdout goes nowhere and
// its stderr to `stderr_path`.
inline pid_t spawn_framepipe(const std::vector<std::string>& args,
                             const fs::path& stderr_path = "/dev/null") {
  std::vector<std::string> all = {kBinary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int failed = posix_spawn(&pid, kBinary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return failed ? -1 : pid;
}

// How many threads the process has now (0 once it is gone).
inline int thread_count(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return 0;
}

// The child's exit code, or nullopt when it did not exit within `bound` (it is then killed) or
// was killed by a signal. The bound only catches hangs. `peak_threads`, when given, gets the
// most threads the child was seen with (sampled every 5 ms).
inline std::optional<int> wait_bounded(pid_t pid, std::chrono::milliseconds bound,
                                       int* peak_threads = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (peak_threads) *peak_threads = std::max(*peak_threads, thread_count(pid));
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!WIFEXITED(status)) return std::nullopt;
  return WEXITSTATUS(status);
}

// Waits until the child has installed its SIGINT handler (SigCgt in /proc/PID/status), so a
// signal sent after this is a cancellation, not the default action. False when it exited first.
inline bool wait_for_sigint_handler(pid_t pid, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  const auto status_file = "/proc/" + std::to_string(pid) + "/status";
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream status(status_file);
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("SigCgt:")) {
        const auto caught = std::stoull(line.substr(7), nullptr, 16);
        if (caught & (1ULL << (SIGINT - 1))) return true;
      }
      if (line.starts_with("State:") && line.find('Z') != std::string::npos) return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// A test with its own temporary folder holding an input folder in/ (made) and an output
// folder out/ (left for framepipe to make), removed after the test.
class FoldersTest : public ::testing::Test {
 protected:
  explicit FoldersTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = make_temp_dir(prefix_);
    in_ = dir_ / "in";
    out_ = dir_ / "out";
    fs::create_directories(in_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `count` copies of small_clip() in in/, named clip0.mp4, clip1.mp4, …
  void add_clips(int count) {
    for (int i = 0; i < count; ++i) {
      fs::copy_file(small_clip(), in_ / ("clip" + std::to_string(i) + ".mp4"));
    }
  }

  fs::path dir_, in_, out_;

 private:
  std::string prefix_;
};

}  // namespace framepipe::testing::reliability
