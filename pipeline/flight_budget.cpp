#include "pipeline/flight_budget.h"

#include <stdexcept>

#include "pipeline/profiler.h"

namespace framepipe {

FlightBudget::FlightBudget(int capacity) : capacity_(capacity) {
  if (capacity < 1) throw std::invalid_argument("frames-in-flight capacity must be >= 1");
}

void FrameCompletions::record(std::int64_t latency_ns) {
  {
    std::lock_guard lock(mutex_);
    latencies_ns_.add(latency_ns);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  if (also_count_) also_count_->fetch_add(1, std::memory_order_relaxed);
}

DurationHistogram FrameCompletions::latencies_ns() const {
  std::lock_guard lock(mutex_);
  return latencies_ns_;
}

std::shared_ptr<const void> FlightBudget::acquire(const std::atomic<bool>& stop,
                                                  FrameCompletions& completions) {
  {
    std::unique_lock lock(mutex_);
    freed_.wait(lock, [&] { return stop.load() || in_use_ < capacity_; });
    if (stop.load()) return nullptr;
    ++in_use_;
    if (in_use_ > peak_) peak_ = in_use_;
  }
  return std::shared_ptr<const Slot>(
      new Slot{this, &completions, steady_now_ns()}, [](const Slot* slot) {
        if (slot->completions) {
          slot->completions->record(steady_now_ns() - slot->taken_ns);
        }
        slot->budget->release();
        delete slot;
      });
}

void FlightBudget::return_unused(std::shared_ptr<const void> slot) {
  if (slot) static_cast<const Slot*>(slot.get())->completions = nullptr;
}

void FlightBudget::release() {
  {
    std::lock_guard lock(mutex_);
    --in_use_;
  }
  freed_.notify_one();
}

void FlightBudget::wake_waiters() {
  { std::lock_guard lock(mutex_); }
  freed_.notify_all();
}

int FlightBudget::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

int FlightBudget::peak() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

}  // namespace framepipe
