// The EXIF Orientation reader and the turns it implies, against cv::imread (which reads the tag
// itself) and against hand-made segments.
#include "stages/io/exif_orientation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "tests/support/exif_jpeg.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace exif = stages::exif;

std::string plain_jpeg() {
  return read_text(make_clip("exif-base-48x32.jpg",
                             "-f lavfi -i testsrc2=size=48x32:rate=1 -frames:v 1 -q:v 3"));
}

int orientation_of(const std::string& bytes) {
  return exif::jpeg_orientation(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

TEST(ExifOrientationTest, ReadsTheTagInBothByteOrders) {
  const auto plain = plain_jpeg();
  EXPECT_EQ(orientation_of(plain), 1);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    for (const bool big_endian : {false, true}) {
      EXPECT_EQ(orientation_of(with_exif_orientation(plain, orientation, big_endian)), orientation)
          << orientation << (big_endian ? " MM" : " II");
    }
  }
  // Out of range: as stored.
  EXPECT_EQ(orientation_of(with_exif_orientation(plain, 9, true)), 1);
  EXPECT_EQ(orientation_of(with_exif_orientation(plain, 0, false)), 1);
}

// The turns are cv::imread's: the picture it returns with the tag is the one we turn from the
// picture it returns ignoring it.
TEST(ExifOrientationTest, UprightIsWhatCvImreadReturns) {
  const auto dir = make_temp_dir("framepipe-exif");
  const auto plain = plain_jpeg();
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const auto path = dir / ("o" + std::to_string(orientation) + ".jpg");
    { std::ofstream(path, std::ios::binary) << with_exif_orientation(plain, orientation, false); }
    const cv::Mat stored =
        cv::imread(path.string(), cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    const cv::Mat expected = cv::imread(path.string());
    const cv::Mat turned = exif::upright(stored, orientation);
    ASSERT_EQ(turned.size(), expected.size()) << orientation;
    EXPECT_EQ(cv::norm(turned, expected, cv::NORM_INF), 0) << orientation;
  }
  std::filesystem::remove_all(dir);
}

// Cut anywhere, or with random bytes in its segments, a file is read inside its bounds (ASan
// checks) and gives a valid orientation.
TEST(ExifOrientationTest, DamagedSegmentsAreReadSafely) {
  const auto tagged = with_exif_orientation(plain_jpeg(), 6, true);
  for (std::size_t size = 0; size < 64; ++size) {
    const int orientation = orientation_of(tagged.substr(0, size));
    EXPECT_GE(orientation, 1);
    EXPECT_LE(orientation, 8);
  }
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    auto bytes = tagged.substr(0, 48);
    bytes[2 + random() % 46] = static_cast<char>(random());
    const int orientation = orientation_of(bytes);
    EXPECT_GE(orientation, 1);
    EXPECT_LE(orientation, 8);
  }
}

}  // namespace
}  // namespace framepipe::testing
