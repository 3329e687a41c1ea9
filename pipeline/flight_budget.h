#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace framepipe {

// The global cap on frames in flight, which bounds memory whatever the video's length. A
// source takes a slot before it produces a frame; the slot returns when the last copy of that
// frame is destroyed. One budget may be shared by several runs.
class FlightBudget {
 public:
  explicit FlightBudget(int capacity);
  FlightBudget(const FlightBudget&) = delete;
  FlightBudget& operator=(const FlightBudget&) = delete;

  // Blocks until a slot is free; returns null once `stop` is set (after wake_waiters()).
  std::shared_ptr<const void> acquire(const std::atomic<bool>& stop);
  // Wakes every waiting acquire() so it can look at its stop flag.
  void wake_waiters();

  int capacity() const { return capacity_; }
  int in_use() const;
  int peak() const;

 private:
  void release();

  const int capacity_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int in_use_ = 0;
  int peak_ = 0;
};

}  // namespace framepipe
