// Items' outputs put in place in groups (pipeline/group_commit.h): nothing is at a final name
// before its group is committed, a group goes when it is full or its time has come, the rest
// when the commit is finished, and an item is placed whole or not at all.
#include "pipeline/group_commit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using NamedCommit = GroupCommit<std::string>;

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("group-commit"); }
  void TearDown() override { fs::remove_all(dir_); }

  // `name` in the folder written whole with `text` as its content, closed unsynced.
  std::vector<std::unique_ptr<AtomicFile>> written_unsynced(const std::string& name,
                                                            Replace replace = Replace::allowed) {
    std::vector<std::unique_ptr<AtomicFile>> files;
    files.push_back(std::make_unique<AtomicFile>(dir_ / name, replace));
    files.back()->write("content of " + name);
    files.back()->close_unsynced();
    return files;
  }

  // The tags of each group committed so far, and each failed entry's error.
  NamedCommit::Committed recorder() {
    return [this](std::vector<NamedCommit::Entry>& group) {
      std::lock_guard lock(mutex_);
      std::vector<std::string> tags;
      for (const auto& entry : group) {
        tags.push_back(entry.tag);
        if (!entry.error.empty()) errors_[entry.tag] = entry.error;
      }
      groups_.push_back(tags);
    };
  }

  std::vector<std::vector<std::string>> groups() {
    std::lock_guard lock(mutex_);
    return groups_;
  }

  // Waits up to 10 s for `count` groups (the committing thread runs on its own).
  bool await_groups(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (groups().size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    return groups().size() >= count;
  }

  fs::path dir_;
  std::mutex mutex_;
  std::vector<std::vector<std::string>> groups_;
  std::map<std::string, std::string> errors_;
};

TEST_F(GroupCommitTest, AFullGroupGoesInPlaceTogetherAndFinishCommitsTheRest) {
  NamedCommit commits(3, 1h, recorder());
  commits.add("a", written_unsynced("a.jpg"));
  commits.add("b", written_unsynced("b.jpg"));
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(fs::exists(dir_ / "a.jpg")) << "placed before its group was full";
  EXPECT_TRUE(groups().empty());
  commits.add("c", written_unsynced("c.jpg"));
  ASSERT_TRUE(await_groups(1));
  EXPECT_EQ(groups()[0], (std::vector<std::string>{"a", "b", "c"}));
  for (const auto* name : {"a.jpg", "b.jpg", "c.jpg"}) {
    EXPECT_EQ(read_text(dir_ / name), std::string("content of ") + name);
  }
  commits.add("d", written_unsynced("d.jpg"));
  EXPECT_FALSE(fs::exists(dir_ / "d.jpg"));
  commits.finish();
  EXPECT_EQ(groups().size(), 2u);
  EXPECT_EQ(groups()[1], std::vector<std::string>{"d"});
  EXPECT_EQ(read_text(dir_ / "d.jpg"), "content of d.jpg");
  // Only the final names: no temporary is left.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.jpg", "b.jpg", "c.jpg", "d.jpg"}));
  EXPECT_TRUE(errors_.empty());
}

TEST_F(GroupCommitTest, AGroupThatIsNotFullGoesWhenItsTimeHasCome) {
  NamedCommit commits(100, 50ms, recorder());
  commits.add("a", written_unsynced("a.jpg"));
  ASSERT_TRUE(await_groups(1)) << "a group of one waited past its period";
  EXPECT_EQ(read_text(dir_ / "a.jpg"), "content of a.jpg");
}

// Groups grow with what was committed before them: at least `group_size` items and an eighth
// of those before, so 100 items, added one at a time with the commits keeping up, go in 25
// groups (by hand: 8 of 2 items, then 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, and the
// 9 left at finish) where groups of 2 made 50, each rewriting a manifest of all so far.
TEST_F(GroupCommitTest, GroupsGrowWithTheItemsCommittedBeforeThem) {
  NamedCommit commits(2, 1h, recorder());
  for (int i = 0; i < 100; ++i) {
    const auto before = groups().size();
    const auto name = std::to_string(i);
    commits.add(name, written_unsynced(name + ".jpg"));
    // Give a commit this add may have started time to end, so that groups are no larger than
    // their worth for lack of time.
    const auto deadline = std::chrono::steady_clock::now() + 5ms;
    while (groups().size() == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100us);
    }
  }
  commits.finish();
  const auto all = groups();
  std::size_t committed = 0;
  for (std::size_t g = 0; g < all.size(); ++g) {
    if (g + 1 < all.size()) {
      EXPECT_GE(all[g].size(), std::max<std::size_t>(2, committed / 8)) << "group " << g;
    }
    committed += all[g].size();
  }
  EXPECT_EQ(committed, 100u);
  EXPECT_LE(all.size(), 25u);
  EXPECT_TRUE(errors_.empty());
}

// An item whose second file cannot be placed (Replace::refused, and a file appeared at its
// name): none of its files stays, the file that was there is untouched, the others go in.
TEST_F(GroupCommitTest, AnItemIsPlacedWholeOrNotAtAll) {
  NamedCommit commits(100, 1h, recorder());
  commits.add("ok", written_unsynced("ok.jpg"));
  auto files = written_unsynced("first.jpg");
  auto second = written_unsynced("second.jpg", Replace::refused);
  files.push_back(std::move(second.front()));
  std::ofstream(dir_ / "second.jpg") << "the user's";
  commits.add("two files", std::move(files));
  commits.finish();

  ASSERT_EQ(groups().size(), 1u);
  ASSERT_EQ(errors_.count("two files"), 1u);
  EXPECT_NE(errors_["two files"].find("second.jpg"), std::string::npos) << errors_["two files"];
  EXPECT_FALSE(fs::exists(dir_ / "first.jpg"));
  EXPECT_EQ(read_text(dir_ / "second.jpg"), "the user's");
  EXPECT_EQ(read_text(dir_ / "ok.jpg"), "content of ok.jpg");
  EXPECT_EQ(errors_.count("ok"), 0u);
  std::size_t hidden = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    hidden += entry.path().filename().string().starts_with(".");
  }
  EXPECT_EQ(hidden, 0u);
}

// Destroyed uncommitted (an item that failed): its hidden files go, nothing reaches a final name.
TEST_F(GroupCommitTest, FilesNeverAddedAreRemovedWithTheirOwner) {
  {
    auto files = written_unsynced("dropped.jpg");
    EXPECT_TRUE(fs::exists(files.front()->temp_path()));
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace framepipe::testing
