#pragma once

#include <cstdint>
#include <vector>

namespace framepipe {

// Durations counted in log-spaced buckets, so a run's percentiles take a fixed amount of memory
// however many values it records. Values below 128 ns are counted exactly; above, each power of
// two is split into 64 buckets, each 1/64 or less of its lower bound wide, and a quantile is
// reported as its bucket's midpoint: within kMaxRelativeError (1/128, 0.79%) of the exact value.
// The smallest and largest values are kept exactly. Not thread-safe: callers lock.
class DurationHistogram {
 public:
  static constexpr double kMaxRelativeError = 1.0 / 128;

  // Negative durations (a clock read out of order) count as 0.
  void add(std::int64_t ns);
  std::int64_t count() const { return count_; }
  std::int64_t min() const { return count_ ? min_ : 0; }
  std::int64_t max() const { return count_ ? max_ : 0; }
  // The value of rank round(q * (count - 1)) among the values added in ascending order (q in
  // [0, 1]), within kMaxRelativeError; exact for the smallest and the largest. 0 when empty.
  std::int64_t quantile(double q) const;

 private:
  static constexpr int kSubBucketBits = 6;  // 64 buckets per power of two
  static constexpr std::int64_t kExactBelow = std::int64_t{2} << kSubBucketBits;  // 128
  static std::size_t bucket_of(std::int64_t ns);
  // The middle of the bucket's values.
  static std::int64_t midpoint_of(std::size_t bucket);

  std::vector<std::int64_t> counts_;  // allocated at the first value: empty ones cost nothing
  std::int64_t count_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace framepipe
