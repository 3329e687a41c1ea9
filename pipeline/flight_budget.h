#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "pipeline/duration_histogram.h"

namespace framepipe {

// Frames that left the pipeline during one run: how many, and how long each took from the
// moment its slot was taken (just before the source produced it) until its last copy died, in a
// histogram whose size does not grow with the run.
class FrameCompletions {
 public:
  // `also_count`, when given, is incremented with every frame too (a batch's progress).
  explicit FrameCompletions(std::atomic<std::int64_t>* also_count = nullptr)
      : also_count_(also_count) {}
  void record(std::int64_t latency_ns);
  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }
  DurationHistogram latencies_ns() const;

 private:
  std::atomic<std::int64_t>* also_count_;
  std::atomic<std::int64_t> count_{0};
  mutable std::mutex mutex_;
  DurationHistogram latencies_ns_;
};

// The global cap on frames in flight, which bounds memory whatever the video's length. A
// source takes a slot before it produces a frame; the slot returns when the last copy of that
// frame is destroyed. One budget may be shared by several runs.
class FlightBudget {
 public:
  explicit FlightBudget(int capacity);
  FlightBudget(const FlightBudget&) = delete;
  FlightBudget& operator=(const FlightBudget&) = delete;

  // Blocks until a slot is free; returns null once `stop` is set (after wake_waiters()). When
  // the slot returns, the frame's latency goes to `completions`.
  std::shared_ptr<const void> acquire(const std::atomic<bool>& stop, FrameCompletions& completions);
  // Returns a slot no frame was made for (the source was at its end): freed, but not counted as
  // a completed frame, so the completions equal the frames produced.
  static void return_unused(std::shared_ptr<const void> slot);
  // Wakes every waiting acquire() so it can look at its stop flag.
  void wake_waiters();

  int capacity() const { return capacity_; }
  int in_use() const;
  int peak() const;

 private:
  struct Slot {
    FlightBudget* budget;
    mutable FrameCompletions* completions;  // null: returned unused
    std::int64_t taken_ns;
  };
  void release();

  const int capacity_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int in_use_ = 0;
  int peak_ = 0;
};

}  // namespace framepipe
