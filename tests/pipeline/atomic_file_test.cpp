// The one writer of every file: the final path holds the previous file or the whole new one,
// a failure names the file and the cause, and no temporary is left behind.
#include "pipeline/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("atomic-file"); }
  void TearDown() override { fs::remove_all(dir_); }

  // The names in the folder, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      found.push_back(entry.path().filename().string());
    }
    std::sort(found.begin(), found.end());
    return found;
  }

  // What `action` throws, or "" when it does not.
  template <typename Action>
  static std::string error_of(Action action) {
    try {
      action();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, CommitReplacesTheWholeFileAndLeavesNoTemporary) {
  const auto path = dir_ / "report.json";
  std::ofstream(path) << "an older and longer file";
  AtomicFile file(path);
  EXPECT_EQ(file.temp_path().parent_path(), dir_);
  EXPECT_TRUE(file.temp_path().filename().string().starts_with(".report.partial-"));
  EXPECT_EQ(file.temp_path().extension(), ".json") << "the extension is kept";
  file.write("ab");
  file.write("c");
  EXPECT_EQ(read_text(path), "an older and longer file") << "replaced before commit";
  file.commit();
  EXPECT_EQ(read_text(path), "abc");
  EXPECT_EQ(names(), std::vector<std::string>{"report.json"});
}

TEST_F(AtomicFileTest, AbortAndDestructionLeaveThePreviousFile) {
  const auto path = dir_ / "x.txt";
  std::ofstream(path) << "previous";
  {
    AtomicFile file(path);
    file.write("half");
  }
  AtomicFile aborted(path);
  aborted.write("half");
  aborted.abort();
  EXPECT_EQ(read_text(path), "previous");
  EXPECT_EQ(names(), std::vector<std::string>{"x.txt"});
}

TEST_F(AtomicFileTest, ALibraryWritesTheTemporaryByName) {
  const auto path = dir_ / "video.mp4";
  AtomicFile file(path);
  std::ofstream(file.temp_path(), std::ios::binary) << "written by name";
  file.commit();
  EXPECT_EQ(read_text(path), "written by name");
  EXPECT_EQ(names(), std::vector<std::string>{"video.mp4"});
}

TEST_F(AtomicFileTest, NoReplaceKeepsAFileThatAppearedMeanwhile) {
  const auto path = dir_ / "out.jsonl";
  AtomicFile file(path, Replace::refused);
  file.write("mine");
  std::ofstream(path) << "theirs";  // another process, after our existence check
  EXPECT_EQ(error_of([&] { file.commit(); }),
            "cannot write '" + path.string() +
                "': a file appeared there while it was being written, and it was not replaced");
  EXPECT_EQ(read_text(path), "theirs");
  EXPECT_EQ(names(), std::vector<std::string>{"out.jsonl"});
  // With nothing in the way it is renamed as usual.
  write_file_atomically(dir_ / "new.jsonl", "fresh", Replace::refused);
  EXPECT_EQ(read_text(dir_ / "new.jsonl"), "fresh");
}

TEST_F(AtomicFileTest, FailuresNameTheFileAndTheCause) {
  EXPECT_EQ(
      error_of([&] { write_file_atomically(dir_ / "missing" / "x.json", "{}"); }),
      "cannot write '" + (dir_ / "missing" / "x.json").string() + "': No such file or directory");
  // A folder in the file's place: the rename fails, and the temporary goes.
  fs::create_directories(dir_ / "manifest.json");
  EXPECT_EQ(error_of([&] { write_file_atomically(dir_ / "manifest.json", "{}"); }),
            "cannot write '" + (dir_ / "manifest.json").string() + "': Is a directory");
  EXPECT_EQ(names(), std::vector<std::string>{"manifest.json"});
}

// Closed without a sync (for a group commit): still only under its hidden name; commit() and
// commit_all() sync it before the rename, and report each file that cannot be placed apart.
TEST_F(AtomicFileTest, FilesClosedUnsyncedStayHiddenUntilCommittedAloneOrTogether) {
  AtomicFile alone(dir_ / "alone.jpg");
  alone.write("whole");
  alone.close_unsynced();
  EXPECT_FALSE(fs::exists(dir_ / "alone.jpg"));
  alone.commit();
  EXPECT_EQ(read_text(dir_ / "alone.jpg"), "whole");

  AtomicFile a(dir_ / "a.jpg");
  AtomicFile refused(dir_ / "b.jpg", Replace::refused);
  AtomicFile c(dir_ / "sub.jpg");
  for (auto* file : {&a, &refused, &c}) {
    file->write("bytes of " + file->final_path().filename().string());
    file->close_unsynced();
  }
  std::ofstream(dir_ / "b.jpg") << "theirs";
  EXPECT_EQ(names().size(), 5u) << "three hidden files, alone.jpg and b.jpg";
  const auto errors = AtomicFile::commit_all({&a, &refused, &c});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "cannot write '" + (dir_ / "b.jpg").string() +
                           "': a file appeared there while it was being written, and it was not "
                           "replaced");
  EXPECT_EQ(errors[2], "");
  EXPECT_EQ(read_text(dir_ / "a.jpg"), "bytes of a.jpg");
  EXPECT_EQ(read_text(dir_ / "b.jpg"), "theirs");
  EXPECT_EQ(read_text(dir_ / "sub.jpg"), "bytes of sub.jpg");
  EXPECT_EQ(names(), (std::vector<std::string>{"a.jpg", "alone.jpg", "b.jpg", "sub.jpg"}));
}

// commit_all() syncs each filesystem its files are on once: files on two of them (the test's
// folder and the memory filesystem at /dev/shm) are all placed whole.
TEST_F(AtomicFileTest, FilesOnTwoFilesystemsAreCommittedTogether) {
  const fs::path shm = "/dev/shm";
  struct stat here = {};
  struct stat there = {};
  if (::stat(dir_.c_str(), &here) != 0 || ::stat(shm.c_str(), &there) != 0 ||
      here.st_dev == there.st_dev) {
    GTEST_SKIP() << "no second filesystem at /dev/shm";
  }
  const auto elsewhere = shm / ("framepipe-atomic-" + std::to_string(::getpid()) + ".jpg");
  AtomicFile a(dir_ / "a.jpg");
  AtomicFile b(elsewhere);
  AtomicFile c(dir_ / "c.jpg");
  for (auto* file : {&a, &b, &c}) {
    file->write("bytes of " + file->final_path().filename().string());
    file->close_unsynced();
  }
  const auto errors = AtomicFile::commit_all({&a, &b, &c});
  EXPECT_EQ(errors, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(read_text(dir_ / "a.jpg"), "bytes of a.jpg");
  EXPECT_EQ(read_text(elsewhere), "bytes of " + elsewhere.filename().string());
  EXPECT_EQ(read_text(dir_ / "c.jpg"), "bytes of c.jpg");
  EXPECT_EQ(names(), (std::vector<std::string>{"a.jpg", "c.jpg"}));
  fs::remove(elsewhere);
}

}  // namespace
}  // namespace framepipe::testing
