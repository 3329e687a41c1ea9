#pragma once

// The outputs of a run over many items (pipeline/item.h) put in place in groups rather than one
// by one. Each done item's files wait whole under their hidden names, unsynced; once a group's
// worth of items have gathered, or `period` has passed since the last group, one thread makes
// all their data durable, renames them into place and syncs their folders
// (AtomicFile::commit_all), then hands the group to `committed` (a batch records it in its
// manifest). Syncing a group at once costs about what syncing one file did: one flush of the
// disk's cache, where a sync per file cost one each.
// A group's worth is `group_size` items, or an eighth of the items committed before it when that
// is more: what `committed` rewrites for each group (a batch's whole manifest) then adds up to a
// few times its final size over a run, rather than growing with the square of the items.
// `period` still bounds how long a done item waits.
// A crash before a group's commit leaves its files under hidden names only, never a part of one
// at a final name.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "pipeline/atomic_file.h"

namespace framepipe {

// `Tag`: what the caller needs to know which item an entry is.
template <typename Tag>
class GroupCommit {
 public:
  struct Entry {
    Tag tag;
    std::vector<std::unique_ptr<AtomicFile>> files;
    // Set by the commit: "" when all its files are in place, else the first one's error (none
    // of its files is then left, at either name).
    std::string error;
  };
  // Called on the committing thread, one group at a time, after the group's files are placed;
  // it must not throw.
  using Committed = std::function<void(std::vector<Entry>& group)>;

  GroupCommit(std::size_t group_size, std::chrono::steady_clock::duration period,
              Committed committed)
      : group_size_(group_size), period_(period), committed_(std::move(committed)) {
    try {
      thread_ = std::thread([this] { commit_in_groups(); });
    } catch (const std::system_error&) {
      // No thread: each add() that completes a group commits it on the caller's thread.
    }
  }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;
  ~GroupCommit() { finish(); }

  // An item's files, closed under their hidden names; committed with the group it joins.
  void add(Tag tag, std::vector<std::unique_ptr<AtomicFile>> files) {
    std::unique_lock lock(mutex_);
    gathered_.push_back({std::move(tag), std::move(files), {}});
    if (gathered_.size() < group_worth() && !due()) return;
    if (thread_.joinable() && !finished_) {
      wake_.notify_one();
      return;
    }
    auto group = std::exchange(gathered_, {});
    lock.unlock();
    commit(group);
  }

  // Commits what has gathered and stops the thread; add()s after it commit at once. Idempotent.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::unique_lock lock(mutex_);
    auto group = std::exchange(gathered_, {});
    lock.unlock();
    if (!group.empty()) commit(group);
  }

 private:
  // With mutex_ held.
  bool due() const { return std::chrono::steady_clock::now() - last_ >= period_; }
  std::size_t group_worth() const { return std::max(group_size_, committed_items_ / 8); }

  void commit_in_groups() {
    std::unique_lock lock(mutex_);
    while (!finished_) {
      wake_.wait_until(lock, last_ + period_, [this] {
        return finished_ || gathered_.size() >= group_worth() || (!gathered_.empty() && due());
      });
      if (gathered_.empty()) {
        last_ = std::chrono::steady_clock::now();
        continue;
      }
      auto group = std::exchange(gathered_, {});
      lock.unlock();
      commit(group);
      lock.lock();
    }
  }

  // Outside mutex_: items keep gathering meanwhile. One group at a time, in the order taken.
  void commit(std::vector<Entry>& group) {
    std::lock_guard order(commit_mutex_);
    std::vector<AtomicFile*> files;
    for (auto& entry : group) {
      for (auto& file : entry.files) files.push_back(file.get());
    }
    const auto errors = AtomicFile::commit_all(files);
    std::size_t first = 0;
    for (auto& entry : group) {
      const auto last = first + entry.files.size();
      for (auto at = first; at < last && entry.error.empty(); ++at) entry.error = errors[at];
      // An item is in place whole or not at all: the files of a failed one that were placed go.
      for (auto at = first; at < last && !entry.error.empty(); ++at) {
        std::error_code ignored;
        if (errors[at].empty()) std::filesystem::remove(files[at]->final_path(), ignored);
      }
      first = last;
    }
    {
      std::lock_guard lock(mutex_);
      last_ = std::chrono::steady_clock::now();
      committed_items_ += group.size();
    }
    committed_(group);
  }

  const std::size_t group_size_;
  const std::chrono::steady_clock::duration period_;
  const Committed committed_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Entry> gathered_;
  std::size_t committed_items_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  bool finished_ = false;
  std::mutex commit_mutex_;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace framepipe
