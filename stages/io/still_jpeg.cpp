#include "stages/io/still_jpeg.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "stages/io/exif_orientation.h"
#include "stages/io/image_file.h"

namespace framepipe::stages {

namespace {

std::runtime_error unreadable(const std::string& path) {
  return std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
}

}  // namespace

std::optional<StillJpeg> StillJpeg::open(const std::string& path, std::int64_t max_pixels,
                                         bool autorotate) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw unreadable(path);
  unsigned char start[3] = {};
  file.read(reinterpret_cast<char*>(start), sizeof start);
  if (!image_file::is_jpeg(start, static_cast<std::size_t>(file.gcount()))) return std::nullopt;
  file.seekg(0);
  StillJpeg jpeg;
  jpeg.path_ = path;
  jpeg.bytes_.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  if (file.bad()) throw unreadable(path);
  try {
    jpeg.stored_size_ = image_file::jpeg_size(jpeg.bytes_.data(), jpeg.bytes_.size());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("'" + path + "': " + e.what());
  }
  // A few bytes of header can declare a 65535x65535 picture.
  const auto pixels = std::int64_t{jpeg.stored_size_.width} * jpeg.stored_size_.height;
  if (pixels > max_pixels) {
    throw std::runtime_error(
        "'" + path + "': its picture is " + std::to_string(jpeg.stored_size_.width) + "x" +
        std::to_string(jpeg.stored_size_.height) + " (" + std::to_string(pixels) +
        " pixels), more than decode's max_pixels " + std::to_string(max_pixels));
  }
  jpeg.orientation_ = exif::jpeg_orientation(jpeg.bytes_.data(), jpeg.bytes_.size());
  jpeg.turn_ = autorotate;
  return jpeg;
}

cv::Size StillJpeg::size() const {
  // Orientations 5 to 8 swap width and height.
  const bool transposed = turn_ && orientation_ >= 5;
  return transposed ? cv::Size(stored_size_.height, stored_size_.width) : stored_size_;
}

cv::Mat StillJpeg::decode() const {
  cv::Mat image;
  try {
    image = image_file::decode_jpeg(bytes_.data(), bytes_.size());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot decode '" + path_ + "': " + e.what());
  }
  return turn_ ? exif::upright(image, orientation_) : image;
}

}  // namespace framepipe::stages
