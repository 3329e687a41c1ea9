#pragma once

// decode's reader for a JPEG image file: the file read whole when decode opens, decoded by
// libjpeg-turbo on decode's thread and turned upright by its EXIF orientation, so stages get the
// pixels cv::imread gives. Other image formats (PNG, BMP, TIFF, WebP) go through libav.
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace framepipe::stages {

class StillJpeg {
 public:
  // The JPEG at `path` when it is a local file that starts as one; nullopt when it starts as
  // something else (libav then reads it). Throws std::runtime_error naming the file when it
  // cannot be read, its header cannot, or its picture is larger than `max_pixels`.
  static std::optional<StillJpeg> open(const std::string& path, std::int64_t max_pixels,
                                       bool autorotate);

  // The picture's size as stages see it (upright when turned).
  cv::Size size() const;
  // The EXIF orientation (1..8; 1 when the file has none).
  int orientation() const { return orientation_; }
  // The pixels, 8-bit BGR; throws std::runtime_error naming the file and the damage.
  cv::Mat decode() const;

 private:
  StillJpeg() = default;

  std::string path_;
  std::vector<unsigned char> bytes_;
  cv::Size stored_size_;
  int orientation_ = 1;
  bool turn_ = true;  // apply the orientation
};

}  // namespace framepipe::stages
