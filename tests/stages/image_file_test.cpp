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
  EXPECT_EQ(image_file::format_of("b.bmp"), image_file::Format::bmp);
  EXPECT_EQ(image_file::format_of("b.TIF"), image_file::Format::tiff);
  EXPECT_EQ(image_file::format_of("b.tiff"), image_file::Format::tiff);
  EXPECT_EQ(image_file::format_of("b.webp"), image_file::Format::webp);
  EXPECT_EQ(image_file::format_of("b.gif"), std::nullopt);
  EXPECT_EQ(image_file::format_of("png"), std::nullopt);
}

// libjpeg-turbo with cv::imread's settings: the same pixels, in colour and gray, for 4:2:0,
// 4:2:2 and 4:4:4 JPEGs.
TEST(ImageFileTest, JpegDecodesToThePixelsCvImreadGives) {
  std::vector<std::string> files = {opencv_sample("baboon.jpg").string()};
  for (const char* sampling : {"yuvj420p", "yuvj422p", "yuvj444p", "gray"}) {
    files.push_back(make_clip(std::string("decode-47x31-") + sampling + ".jpg",
                              "-f lavfi -i testsrc2=size=48x32:rate=1 -vf "
                              "format=rgb24,crop=47:31:0:0 -frames:v 1 -pix_fmt " +
                                  std::string(sampling))
                        .string());
  }
  for (const auto& file : files) {
    const auto bytes = read_text(file);
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    ASSERT_TRUE(image_file::is_jpeg(data, bytes.size())) << file;
    const cv::Mat decoded = image_file::decode_jpeg(data, bytes.size());
    const cv::Mat expected = cv::imread(file);
    ASSERT_EQ(decoded.size(), expected.size()) << file;
    EXPECT_EQ(image_file::jpeg_size(data, bytes.size()), expected.size()) << file;
    EXPECT_EQ(cv::norm(decoded, expected, cv::NORM_INF), 0) << file;
  }
}

TEST(ImageFileTest, DamagedOrForeignBytesAreRefusedWithTheCause) {
  const auto bytes = read_text(opencv_sample("baboon.jpg"));
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  EXPECT_FALSE(image_file::is_jpeg(reinterpret_cast<const unsigned char*>("\x89PNG"), 4));
  // Cut short: libjpeg only warns ("Premature end of JPEG file") and fills the rest with gray.
  try {
    image_file::decode_jpeg(data, bytes.size() / 2);
    ADD_FAILURE() << "a truncated JPEG decoded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged JPEG"), std::string::npos) << e.what();
  }
  const std::string foreign = "\xFF\xD8\xFF this is no JPEG header";
  EXPECT_THROW(
      image_file::jpeg_size(reinterpret_cast<const unsigned char*>(foreign.data()), foreign.size()),
      std::runtime_error);
}

}  // namespace
}  // namespace framepipe::testing
