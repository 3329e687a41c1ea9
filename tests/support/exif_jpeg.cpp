#include "tests/support/exif_jpeg.h"

#include <cstdint>
#include <stdexcept>

namespace framepipe::testing {

namespace {

void put16(std::string& out, std::uint16_t value, bool big_endian) {
  const char high = static_cast<char>(value >> 8), low = static_cast<char>(value & 0xFF);
  out += big_endian ? std::string{high, low} : std::string{low, high};
}

void put32(std::string& out, std::uint32_t value, bool big_endian) {
  const auto high = static_cast<std::uint16_t>(value >> 16);
  const auto low = static_cast<std::uint16_t>(value & 0xFFFF);
  put16(out, big_endian ? high : low, big_endian);
  put16(out, big_endian ? low : high, big_endian);
}

}  // namespace

std::string with_exif_orientation(const std::string& jpeg, int orientation, bool big_endian) {
  if (jpeg.size() < 2 || static_cast<unsigned char>(jpeg[0]) != 0xFF ||
      static_cast<unsigned char>(jpeg[1]) != 0xD8) {
    throw std::invalid_argument("not a JPEG: no SOI marker");
  }
  std::string tiff = big_endian ? "MM" : "II";
  put16(tiff, 42, big_endian);
  put32(tiff, 8, big_endian);  // IFD0 right after this header
  put16(tiff, 1, big_endian);  // one entry
  put16(tiff, 0x0112, big_endian);
  put16(tiff, 3, big_endian);  // SHORT
  put32(tiff, 1, big_endian);  // one value, held in the entry's first two bytes
  put16(tiff, static_cast<std::uint16_t>(orientation), big_endian);
  put16(tiff, 0, big_endian);
  put32(tiff, 0, big_endian);  // no next IFD

  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  std::string segment = "\xFF\xE1";
  put16(segment, static_cast<std::uint16_t>(payload.size() + 2), true);  // JPEG lengths: big-endian
  return jpeg.substr(0, 2) + segment + payload + jpeg.substr(2);
}

}  // namespace framepipe::testing
