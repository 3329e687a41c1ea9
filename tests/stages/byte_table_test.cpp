// ByteTable (stages/io/byte_table.h) must give cv::LUT's bytes, whether it found a line for the
// table (then it computes) or not (then it is cv::LUT).
#include "stages/io/byte_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <opencv2/core.hpp>

namespace framepipe::stages {
namespace {

cv::Mat table_of(const std::function<double(int)>& level_to_value) {
  cv::Mat table(1, 256, CV_8UC1);
  for (int level = 0; level < 256; ++level) {
    table.at<uchar>(level) = cv::saturate_cast<uchar>(level_to_value(level));
  }
  return table;
}

// Every level, then noise, on a width that leaves a scalar tail, read through a view whose rows
// are not contiguous.
cv::Mat test_picture() {
  cv::Mat whole(40, 300, CV_8UC1);
  cv::RNG rng(7);
  rng.fill(whole, cv::RNG::UNIFORM, 0, 256);
  for (int level = 0; level < 256; ++level) whole.at<uchar>(1, 3 + level) = uchar(level);
  return whole(cv::Rect(3, 1, 259, 37));
}

void expect_same_as_lut(const cv::Mat& table) {
  const cv::Mat picture = test_picture();
  cv::Mat expected;
  cv::LUT(picture, table, expected);
  cv::Mat got;
  ByteTable(table).apply(picture, got);
  ASSERT_EQ(got.size(), picture.size());
  EXPECT_EQ(cv::norm(got, expected, cv::NORM_INF), 0);
  // Into a view of a bigger picture, as the encoder writes its luma plane.
  cv::Mat plane(picture.rows + 2, picture.cols + 5, CV_8UC1, cv::Scalar(77));
  cv::Mat inside = plane(cv::Rect(0, 0, picture.cols, picture.rows));
  ByteTable(table).apply(picture, inside);
  EXPECT_EQ(cv::norm(inside, expected, cv::NORM_INF), 0);
  EXPECT_EQ(plane.at<uchar>(picture.rows, 0), 77) << "wrote outside the view";
}

TEST(ByteTableTest, LimitedRangeStretchIsComputedAndExact) {
  // The decoder's luma stretch (stages/io/yuv_gray.cpp), clamped at both ends.
  const cv::Mat table = table_of([](int y) { return (y - 16) * 255.0 / 219.0; });
  EXPECT_TRUE(ByteTable(table).arithmetic());
  expect_same_as_lut(table);
}

TEST(ByteTableTest, GrayToLimitedRangeIsComputedAndExact) {
  // The encoder's gray -> limited-range luma, in two roundings.
  for (const auto& table : {table_of([](int g) { return 16 + g * 219.0 / 255.0; }),
                            table_of([](int g) { return std::floor(16.5 + g * 219.0 / 255.0); })}) {
    EXPECT_TRUE(ByteTable(table).arithmetic());
    expect_same_as_lut(table);
  }
}

TEST(ByteTableTest, IdentityAndConstantAreComputed) {
  for (const auto& table : {table_of([](int g) { return g; }), table_of([](int) { return 128; }),
                            table_of([](int g) { return 255 - g; })}) {
    expect_same_as_lut(table);
  }
  EXPECT_TRUE(ByteTable(table_of([](int g) { return g; })).arithmetic());
}

TEST(ByteTableTest, ATableThatIsNoLineGoesThroughLut) {
  const cv::Mat gamma = table_of([](int g) { return 255.0 * std::pow(g / 255.0, 0.45); });
  EXPECT_FALSE(ByteTable(gamma).arithmetic());
  expect_same_as_lut(gamma);
  cv::Mat shuffled = table_of([](int g) { return g; });
  cv::randShuffle(shuffled);
  EXPECT_FALSE(ByteTable(shuffled).arithmetic());
  expect_same_as_lut(shuffled);
}

}  // namespace
}  // namespace framepipe::stages
