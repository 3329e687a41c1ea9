#include "pipeline/duration_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace framepipe {

namespace {

// Buckets for every non-negative int64: the exact ones, then 64 per power of two from 2^7 up
// to 2^62 (shifts 1 to 56).
constexpr std::size_t kHistogramBuckets = 128 + 56 * 64;

}  // namespace

std::size_t DurationHistogram::bucket_of(std::int64_t ns) {
  if (ns < kExactBelow) return static_cast<std::size_t>(std::max<std::int64_t>(ns, 0));
  const auto value = static_cast<std::uint64_t>(ns);
  const int shift = std::bit_width(value) - (kSubBucketBits + 1);  // >= 1
  const auto mantissa = value >> shift;                            // in [64, 128)
  return static_cast<std::size_t>(kExactBelow) +
         static_cast<std::size_t>(shift - 1) * (std::size_t{1} << kSubBucketBits) +
         static_cast<std::size_t>(mantissa - (std::uint64_t{1} << kSubBucketBits));
}

std::int64_t DurationHistogram::midpoint_of(std::size_t bucket) {
  if (bucket < static_cast<std::size_t>(kExactBelow)) return static_cast<std::int64_t>(bucket);
  const auto above = bucket - static_cast<std::size_t>(kExactBelow);
  const int shift = static_cast<int>(above >> kSubBucketBits) + 1;
  const auto mantissa =
      (above & ((std::size_t{1} << kSubBucketBits) - 1)) + (std::size_t{1} << kSubBucketBits);
  const auto lower = static_cast<std::uint64_t>(mantissa) << shift;
  return static_cast<std::int64_t>(lower + ((std::uint64_t{1} << shift) >> 1));
}

void DurationHistogram::add(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  if (counts_.empty()) counts_.assign(kHistogramBuckets, 0);
  ++counts_[bucket_of(ns)];
  min_ = count_ ? std::min(min_, ns) : ns;
  max_ = count_ ? std::max(max_, ns) : ns;
  ++count_;
}

std::int64_t DurationHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank =
      static_cast<std::int64_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_ - 1) + 0.5);
  if (rank == 0) return min_;
  if (rank == count_ - 1) return max_;
  std::int64_t seen = 0;
  for (std::size_t bucket = 0; bucket < counts_.size(); ++bucket) {
    seen += counts_[bucket];
    if (seen > rank) return std::clamp(midpoint_of(bucket), min_, max_);
  }
  return max_;
}

}  // namespace framepipe
