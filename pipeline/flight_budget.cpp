#include "pipeline/flight_budget.h"

#include <stdexcept>

namespace framepipe {

FlightBudget::FlightBudget(int capacity) : capacity_(capacity) {
  if (capacity < 1) throw std::invalid_argument("frames-in-flight capacity must be >= 1");
}

std::shared_ptr<const void> FlightBudget::acquire(const std::atomic<bool>& stop) {
  {
    std::unique_lock lock(mutex_);
    freed_.wait(lock, [&] { return stop.load() || in_use_ < capacity_; });
    if (stop.load()) return nullptr;
    ++in_use_;
    if (in_use_ > peak_) peak_ = in_use_;
  }
  return std::shared_ptr<FlightBudget>(this, [](FlightBudget* budget) { budget->release(); });
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
