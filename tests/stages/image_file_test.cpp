// PNG and JPEG files against OpenCV's own image codecs, the reference: a JPEG has the bytes
// cv::imencode gives for the same quality; a PNG decodes (cv::imdecode) to exactly the pixels
// and is no bigger than cv::imencode's at the same zlib level, within 5%.
#include "stages/io/image_file.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/support/media.h"
#include "tests/support/opencv_samples.h"

namespace framepipe::testing {
namespace {

namespace image_file = stages::image_file;

// A photo in colour and in gray, and an odd-sized window of it whose rows are not contiguous.
std::vector<std::pair<std::string, cv::Mat>> pictures() {
  const cv::Mat photo = cv::imread(opencv_sample("baboon.jpg").string());
  cv::Mat gray;
  cv::cvtColor(photo, gray, cv::COLOR_BGR2GRAY);
  return {{"bgr", photo}, {"gray", gray}, {"window", photo(cv::Rect(17, 9, 301, 177))}};
}

TEST(ImageFileTest, JpegHasTheBytesCvImencodeGives) {
  for (const auto& [name, picture] : pictures()) {
    for (const int quality : {0, 1, 50, 95, 100}) {
      std::vector<unsigned char> reference;
      ASSERT_TRUE(cv::imencode(".jpg", picture, reference, {cv::IMWRITE_JPEG_QUALITY, quality}));
      EXPECT_EQ(image_file::encode(picture, image_file::Format::jpeg, quality), reference)
          << name << " at quality " << quality;
    }
  }
}

TEST(ImageFileTest, PngHoldsExactlyThePixelsAndCompressesLikeCvImencode) {
  for (const auto& [name, picture] : pictures()) {
    std::size_t stored_size = 0;
    for (const int level : {0, 3, 9}) {
      const auto png = image_file::encode(picture, image_file::Format::png, level);
      const cv::Mat decoded = cv::imdecode(png, cv::IMREAD_UNCHANGED);
      ASSERT_EQ(decoded.type(), picture.type()) << name << " at level " << level;
      ASSERT_EQ(decoded.size(), picture.size()) << name << " at level " << level;
      EXPECT_EQ(cv::norm(decoded, picture, cv::NORM_INF), 0) << name << " at level " << level;
      std::vector<unsigned char> reference;
      ASSERT_TRUE(cv::imencode(".png", picture, reference, {cv::IMWRITE_PNG_COMPRESSION, level}));
      EXPECT_LE(png.size(), reference.size() * 105 / 100) << name << " at level " << level;
      if (level == 0) stored_size = png.size();
      if (level == 9) {
        EXPECT_LT(png.size(), stored_size * 9 / 10) << name;
      }
    }
  }
}

TEST(ImageFileTest, OnlyEightBitGrayOrBgrPicturesAreSaved) {
  for (const int type : {CV_16SC1, CV_32FC3, CV_8UC4}) {
    const cv::Mat picture(8, 8, type, cv::Scalar::all(0));
    for (const auto format : {image_file::Format::png, image_file::Format::jpeg}) {
      try {
        image_file::encode(picture, format, 90);
        ADD_FAILURE() << cv::typeToString(type) << " was encoded";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(cv::typeToString(type)), std::string::npos)
            << e.what();
      }
    }
  }
}

TEST(ImageFileTest, FormatFromTheExtension) {
  EXPECT_EQ(image_file::format_of("a/b.png"), image_file::Format::png);
  EXPECT_EQ(image_file::format_of("b.jpg"), image_file::Format::jpeg);
  EXPECT_EQ(image_file::format_of("b.jpeg"), image_file::Format::jpeg);
  EXPECT_EQ(image_file::format_of("b.PNG"), image_file::Format::png);
  EXPECT_EQ(image_file::format_of("b.JPeg"), image_file::Format::jpeg);
  EXPECT_EQ(image_file::format_of("b.bmp"), std::nullopt);
  EXPECT_EQ(image_file::format_of("png"), std::nullopt);
}

}  // namespace
}  // namespace framepipe::testing
