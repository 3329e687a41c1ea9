#include "stages/io/exif_orientation.h"

#include <cstdint>
#include <cstring>

namespace framepipe::stages::exif {

namespace {

constexpr std::uint16_t kOrientationTag = 0x0112;
constexpr std::uint16_t kShortType = 3;

// The TIFF structure inside the APP1 segment, in its own byte order.
class TiffReader {
 public:
  TiffReader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}

  // False when the header is not a TIFF one.
  bool read_header(std::uint32_t& first_ifd) {
    if (size_ < 8) return false;
    if (std::memcmp(data_, "II", 2) == 0) {
      little_ = true;
    } else if (std::memcmp(data_, "MM", 2) != 0) {
      return false;
    }
    std::uint16_t magic = 0;
    return u16(2, magic) && magic == 42 && u32(4, first_ifd);
  }

  bool u16(std::size_t at, std::uint16_t& value) const {
    if (at > size_ || size_ - at < 2) return false;
    const unsigned a = data_[at], b = data_[at + 1];
    value = static_cast<std::uint16_t>(little_ ? a | b << 8 : a << 8 | b);
    return true;
  }

  bool u32(std::size_t at, std::uint32_t& value) const {
    std::uint16_t first = 0, second = 0;
    if (!u16(at, first) || !u16(at + 2, second)) return false;
    value = little_ ? std::uint32_t{second} << 16 | first : std::uint32_t{first} << 16 | second;
    return true;
  }

 private:
  const unsigned char* data_;
  std::size_t size_;
  bool little_ = false;
};

int orientation_in_tiff(const unsigned char* data, std::size_t size) {
  TiffReader tiff(data, size);
  std::uint32_t ifd = 0;
  std::uint16_t entries = 0;
  if (!tiff.read_header(ifd) || !tiff.u16(ifd, entries)) return 1;
  for (std::uint32_t i = 0; i < entries; ++i) {
    const std::size_t entry = std::size_t{ifd} + 2 + 12 * std::size_t{i};
    std::uint16_t tag = 0, type = 0, value = 0;
    if (!tiff.u16(entry, tag) || !tiff.u16(entry + 2, type)) return 1;
    if (tag != kOrientationTag) continue;
    if (type != kShortType || !tiff.u16(entry + 8, value) || value < 1 || value > 8) return 1;
    return value;
  }
  return 1;
}

}  // namespace

int jpeg_orientation(const unsigned char* data, std::size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
  std::size_t at = 2;
  while (at + 4 <= size) {
    if (data[at] != 0xFF) return 1;
    const unsigned char marker = data[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    // Start of scan or end of image: the metadata segments are over.
    if (marker == 0xDA || marker == 0xD9) return 1;
    const std::size_t length = std::size_t{data[at + 2]} << 8 | data[at + 3];
    if (length < 2 || length > size - at - 2) return 1;
    const unsigned char* segment = data + at + 4;
    const std::size_t segment_size = length - 2;
    if (marker == 0xE1 && segment_size >= 6 && std::memcmp(segment, "Exif\0\0", 6) == 0) {
      return orientation_in_tiff(segment + 6, segment_size - 6);
    }
    at += 2 + length;
  }
  return 1;
}

cv::Mat upright(const cv::Mat& image, int orientation) {
  cv::Mat turned;
  switch (orientation) {
    case 2:
      cv::flip(image, turned, 1);
      return turned;
    case 3:
      cv::flip(image, turned, -1);
      return turned;
    case 4:
      cv::flip(image, turned, 0);
      return turned;
    case 5:
      cv::transpose(image, turned);
      return turned;
    case 6:
      cv::transpose(image, turned);
      cv::flip(turned, turned, 1);
      return turned;
    case 7:
      cv::transpose(image, turned);
      cv::flip(turned, turned, -1);
      return turned;
    case 8:
      cv::transpose(image, turned);
      cv::flip(turned, turned, 0);
      return turned;
    default:
      return image;
  }
}

}  // namespace framepipe::stages::exif
