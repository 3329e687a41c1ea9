#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace framepipe {

// Keeps at most `cap` of the items offered to it, spread evenly over all of them: every
// stride-th item, where the stride starts at 1 and doubles (dropping every other kept item)
// each time the kept items would pass the cap. So memory stays bounded however long a run is,
// the kept items still span it from its start to near its end, and a run of `cap` items or
// fewer keeps them all. Not thread-safe: callers lock.
template <typename T>
class EvenlyThinned {
 public:
  explicit EvenlyThinned(std::size_t cap) : cap_(std::max<std::size_t>(cap, 2)) {}

  void offer(T item) {
    const auto index = offered_++;
    if (index % stride_ != 0) return;
    if (kept_.size() == cap_) {
      halve();
      if (index % stride_ != 0) return;
    }
    kept_.push_back(std::move(item));
  }

  const std::vector<T>& kept() const { return kept_; }
  std::vector<T> take() { return std::move(kept_); }
  std::int64_t offered() const { return offered_; }
  // Kept items are the offered ones at 0, stride, 2 * stride, ...
  std::int64_t stride() const { return stride_; }
  std::size_t cap() const { return cap_; }

 private:
  // The kept item at position i is the offered one at i * stride: the even positions are the
  // ones at multiples of twice the stride.
  void halve() {
    std::size_t out = 0;
    for (std::size_t i = 0; i < kept_.size(); i += 2) kept_[out++] = std::move(kept_[i]);
    kept_.resize(out);
    stride_ *= 2;
  }

  std::size_t cap_;
  std::vector<T> kept_;
  std::int64_t offered_ = 0;
  std::int64_t stride_ = 1;
};

}  // namespace framepipe
