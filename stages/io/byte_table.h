#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>

namespace framepipe::stages {

// A table of 256 bytes applied to an 8-bit one-channel picture, as cv::LUT applies it, but by
// arithmetic when the table is a rounded, clamped straight line of the level (the stretch of
// limited-range luma to full range, and back): 16 pixels per vector step instead of one table
// load per pixel, which made cv::LUT cost as much as the blur on 1080p frames. The line is
// fitted once, to every level, so either way the bytes are the table's.
class ByteTable {
 public:
  explicit ByteTable(const cv::Mat& table);  // 1x256 or 256x1, CV_8UC1

  // dst = table[src], pixel by pixel; dst is (re)allocated as by cv::Mat::create, so a view of
  // the right size is written in place.
  void apply(const cv::Mat& src, cv::Mat& dst) const;
  // Whether apply() uses arithmetic rather than cv::LUT.
  bool arithmetic() const { return line_.has_value(); }

  // out = clamp((floor(level × gain / 256) + offset) >> 6, 0, 255): a level's 64ths, in 16 bits.
  struct Line {
    std::uint16_t gain = 0;
    std::int16_t offset = 0;
  };

 private:
  cv::Mat table_;
  std::optional<Line> line_;
};

}  // namespace framepipe::stages
