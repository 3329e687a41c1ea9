// The batch manifest (--resume's record) through the framepipe binary: a failed save keeps the
// previous manifest and fails the batch loudly, an unreadable manifest stops --resume with a
// way out, and no save failure crashes a batch.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;

// The lines of `text` that are not empty.
std::vector<std::string> non_empty_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-manifest");
    in_ = dir_ / "in";
    out_ = dir_ / "out";
    fs::create_directories(in_);
    config_ = dir_ / "discard.yaml";
    // Writes no file but the manifest: no output, no report.
    std::ofstream(config_) << "pipeline: {profile: false}\n"
                              "stages:\n"
                              "  - {type: decode}\n"
                              "  - {type: discard}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void add_clip(const std::string& name) {
    fs::copy_file(make_clip("manifest-16x16-3f.mp4",
                            "-f lavfi -i testsrc2=size=16x16:rate=10 -frames:v 3 -c:v libx264 "
                            "-preset ultrafast -pix_fmt yuv420p"),
                  in_ / name);
  }

  // `framepipe run CONFIG -q ARGS`, prefixed by `wrapper` (e.g. prlimit). Its output through a
  // pipe, never a file, which a file size limit would cut short. `errors_`: every line but the
  // batch's summary line (stdout with -q), i.e. stderr.
  CommandResult run(const std::string& args, const std::string& wrapper = "") {
    auto result = run_shell("(" + wrapper + shell_quote(kBinary) + " run " +
                            shell_quote(config_.string()) + " -q " + args + ")");
    errors_.clear();
    for (const auto& line : non_empty_lines(result.output)) {
      if (!line.starts_with("batch: ")) errors_.push_back(line);
    }
    return result;
  }

  std::string batch_args() const {
    return "--input " + shell_quote(in_.string()) + " --output " + shell_quote(out_.string());
  }

  fs::path manifest() const { return out_ / ".framepipe-manifest.json"; }

  fs::path dir_, in_, out_, config_;
  std::vector<std::string> errors_;
};

// A file's write time is kept in nanoseconds since the Unix epoch, as stat(2) gives it. A
// manifest from before kept libstdc++'s file_clock count, whose epoch is 2174-01-01
// (6,437,664,000 s later): --resume still takes it as the same time and redoes nothing.
TEST_F(ManifestTest, WriteTimesAreUnixNanosecondsAndEarlierManifestsStillResume) {
  add_clip("a.mp4");
  ASSERT_EQ(run(batch_args()).exit_code, 0);
  struct stat status {};
  ASSERT_EQ(::stat((in_ / "a.mp4").c_str(), &status), 0);
  const std::int64_t unix_ns =
      std::int64_t{status.st_mtim.tv_sec} * 1000000000 + status.st_mtim.tv_nsec;
  auto saved = read_json(manifest());
  ASSERT_EQ(saved["files"]["a.mp4"]["mtime_ns"].get<std::int64_t>(), unix_ns);

  saved["files"]["a.mp4"]["mtime_ns"] = unix_ns - std::int64_t{6437664000} * 1000000000;
  std::ofstream(manifest()) << saved.dump();
  const auto result = run(batch_args() + " --resume");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("0 ok, 0 damaged, 0 failed, 1 skipped"), std::string::npos)
      << result.output;
}

TEST_F(ManifestTest, AFailedSaveKeepsThePreviousManifestAndFailsLoudly) {
  add_clip("a.mp4");
  ASSERT_EQ(run(batch_args()).exit_code, 0);
  const auto previous = read_text(manifest());
  ASSERT_EQ(read_json(manifest())["files"].size(), 1u);

  // A full disk, simulated: no file may grow past the previous manifest's size, so saving
  // one more entry fails with EFBIG (framepipe ignores SIGXFSZ, which would kill it).
  add_clip("b.mp4");
  const auto result =
      run(batch_args() + " --resume", "prlimit --fsize=" + std::to_string(previous.size()) + " ");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(read_text(manifest()), previous) << "the previous manifest was damaged";
  ASSERT_EQ(errors_.size(), 1u) << result.output;
  EXPECT_NE(errors_[0].find("cannot write '" + manifest().string() + "': File too large"),
            std::string::npos)
      << errors_[0];
  for (const auto& entry : fs::directory_iterator(out_)) {
    EXPECT_EQ(entry.path(), manifest()) << "left behind: " << entry.path();
  }
}

TEST_F(ManifestTest, ResumeRefusesAnUnreadableManifestAndSaysWhatToDo) {
  add_clip("a.mp4");
  ASSERT_EQ(run(batch_args()).exit_code, 0);
  // Truncated, as an unchecked write on a full disk used to leave it.
  const auto text = read_text(manifest());
  std::ofstream(manifest(), std::ios::trunc) << text.substr(0, text.size() / 2);

  auto result = run(batch_args() + " --resume");
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_EQ(errors_.size(), 1u) << result.output;
  EXPECT_NE(errors_[0].find("manifest '" + manifest().string() + "' cannot be read"),
            std::string::npos)
      << errors_[0];
  EXPECT_NE(errors_[0].find("delete it"), std::string::npos) << errors_[0];
  EXPECT_EQ(result.output.find("batch:"), std::string::npos) << "files ran: " << result.output;

  // The way out it names: without --resume the batch runs and replaces it.
  result = run(batch_args());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(read_json(manifest())["files"].size(), 1u);
}

TEST_F(ManifestTest, AFolderInTheManifestsPlaceIsOneErrorNotACrash) {
  add_clip("a.mp4");
  add_clip("b.mp4");
  fs::create_directories(manifest());
  const auto result = run(batch_args() + " --set pipeline.files_in_parallel=2");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  ASSERT_EQ(errors_.size(), 1u) << result.output;
  EXPECT_NE(errors_[0].find("cannot write '" + manifest().string() + "'"), std::string::npos)
      << errors_[0];
  EXPECT_NE(result.output.find("2 ok"), std::string::npos) << result.output;
}

TEST_F(ManifestTest, AnOutputFolderThatCannotBeCreatedIsOneErrorNotACrash) {
  add_clip("a.mp4");
  // A file where a folder should be: fails for root too, unlike permissions.
  std::ofstream(dir_ / "file") << "x";
  out_ = dir_ / "file" / "out";
  const auto result = run(batch_args());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  ASSERT_EQ(errors_.size(), 1u) << result.output;
  EXPECT_NE(errors_[0].find("cannot write '" + manifest().string() + "'"), std::string::npos)
      << errors_[0];
}

TEST_F(ManifestTest, AnEmptyOutputFolderIsAConfigError) {
  add_clip("a.mp4");
  const auto result = run("--input " + shell_quote(in_.string()) + " --set 'output.dir=\"\"'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("--set output.dir=\"\": output: 'dir' must not be empty"),
            std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace framepipe::testing
