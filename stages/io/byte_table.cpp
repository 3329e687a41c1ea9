#include "stages/io/byte_table.h"

#include <algorithm>
#include <array>
#include <opencv2/core/hal/intrin.hpp>

namespace framepipe::stages {

namespace {

constexpr int kLineShift = 6;    // the line's sums are in 64ths of a level
constexpr int kMaxGain = 32767;  // keeps floor(255 × gain / 256) a positive 16-bit signed value

int times_gain(int level, int gain) { return level * gain >> 8; }

// The offset that makes `gain` reproduce every level of `table`, if one does.
std::optional<std::int16_t> offset_for(const std::array<std::uint8_t, 256>& table, int gain) {
  // Sums must stay in int16 for every level.
  int low = -32768;
  int high = 32767 - times_gain(255, gain);
  for (int level = 0; level < 256 && low <= high; ++level) {
    const int product = times_gain(level, gain);
    const int out = table[static_cast<std::size_t>(level)];
    // (product + offset) >> kLineShift must be `out`; 0 and 255 also take what clamps to them.
    if (out > 0) low = std::max(low, (out << kLineShift) - product);
    if (out < 255) high = std::min(high, (out << kLineShift) + (1 << kLineShift) - 1 - product);
  }
  if (low > high) return std::nullopt;
  return static_cast<std::int16_t>(low);
}

// A gain and offset that give every entry of `table`, searched near the slope between the
// first and last levels that are not clamped.
std::optional<ByteTable::Line> fit_line(const std::array<std::uint8_t, 256>& table) {
  int first = -1, last = -1;
  for (int level = 0; level < 256; ++level) {
    const int out = table[static_cast<std::size_t>(level)];
    if (out == 0 || out == 255) continue;
    if (first < 0) first = level;
    last = level;
  }
  const double slope =
      last > first
          ? double(table[static_cast<std::size_t>(last)] - table[static_cast<std::size_t>(first)]) /
                (last - first)
          : 1.0;
  const int centre = static_cast<int>(slope * (256 << kLineShift));
  constexpr int kSearch = 512;
  for (int step = 0; step <= kSearch; ++step) {
    for (const int gain : {centre - step, centre + step}) {
      if (gain < 0 || gain > kMaxGain) continue;
      if (const auto offset = offset_for(table, gain)) {
        return ByteTable::Line{static_cast<std::uint16_t>(gain), *offset};
      }
    }
  }
  return std::nullopt;
}

// One row through the line; the vector loop and the scalar tail compute the same sums.
void line_row(const std::uint8_t* in, std::uint8_t* out, int width, ByteTable::Line line) {
  int x = 0;
#if CV_SIMD128
  const cv::v_uint16x8 gain = cv::v_setall_u16(line.gain);
  const cv::v_int16x8 offset = cv::v_setall_s16(line.offset);
  auto sums = [&](const cv::v_uint16x8& level) {
    // mul_hi((level << 8) × gain) is floor(level × gain / 256).
    return (cv::v_reinterpret_as_s16(cv::v_mul_hi(level << 8, gain)) + offset) >> kLineShift;
  };
  for (; x + 16 <= width; x += 16) {
    cv::v_uint16x8 low, high;
    cv::v_expand(cv::v_load(in + x), low, high);
    cv::v_store(out + x, cv::v_pack_u(sums(low), sums(high)));
  }
#endif
  for (; x < width; ++x) {
    const int sum = (times_gain(in[x], line.gain) + line.offset) >> kLineShift;
    out[x] = static_cast<std::uint8_t>(std::clamp(sum, 0, 255));
  }
}

}  // namespace

ByteTable::ByteTable(const cv::Mat& table) : table_(table.reshape(1, 1).clone()) {
  CV_Assert(table_.type() == CV_8UC1 && table_.total() == 256);
  std::array<std::uint8_t, 256> entries{};
  std::copy_n(table_.ptr<std::uint8_t>(), 256, entries.begin());
  line_ = fit_line(entries);
}

void ByteTable::apply(const cv::Mat& src, cv::Mat& dst) const {
  CV_Assert(src.type() == CV_8UC1);
  if (!line_) {
    cv::LUT(src, table_, dst);
    return;
  }
  dst.create(src.size(), CV_8UC1);
  for (int row = 0; row < src.rows; ++row) {
    line_row(src.ptr<std::uint8_t>(row), dst.ptr<std::uint8_t>(row), src.cols, *line_);
  }
}

}  // namespace framepipe::stages
