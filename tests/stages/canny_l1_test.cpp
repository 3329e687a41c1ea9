// canny_l1_3x3 (stages/vision/canny_l1.h) must give cv::Canny's bytes wherever it applies: gray
// and BGR, every size around its 16-pixel blocks, thresholds whole and fractional, views into
// larger images.
#include "stages/vision/canny_l1.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

using stages::canny_l1_3x3;
using stages::canny_l1_3x3_applies;

cv::Mat cv_canny(const cv::Mat& gray, double low, double high) {
  cv::Mat edges;
  cv::Canny(gray, edges, low, high);
  return edges;
}

// Noise, blurred so that many pixels are local maxima between the thresholds (the case where
// hysteresis decides), or left sharp.
cv::Mat noise(cv::RNG& rng, int rows, int cols, bool blurred, int type = CV_8UC1) {
  cv::Mat image(rows, cols, type);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  if (blurred) cv::GaussianBlur(image, image, {5, 5}, 2);
  return image;
}

TEST(CannyL1Test, EqualsCvCannyOnEverySmallSize) {
  cv::RNG rng(11);
  for (const int type : {CV_8UC1, CV_8UC3}) {
    for (int rows = 1; rows <= 20; ++rows) {
      for (int cols = 1; cols <= 40; ++cols) {
        const auto image = noise(rng, rows, cols, (rows + cols) % 2 == 0, type);
        SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols) + "x" +
                     std::to_string(image.channels()));
        expect_identical(canny_l1_3x3(image, 50, 150), cv_canny(image, 50, 150));
        expect_identical(canny_l1_3x3(image, 10, 40), cv_canny(image, 10, 40));
      }
    }
  }
}

TEST(CannyL1Test, EqualsCvCannyAtWholeFractionalAndExtremeThresholds) {
  cv::RNG rng(12);
  const std::pair<double, double> thresholds[] = {
      {0, 0},     {0, 1},     {1, 1},       {49.5, 150.7}, {50, 150},
      {100, 100}, {300, 900}, {2040, 2040}, {0, 10000},    {5000, 10000}};
  for (const bool blurred : {true, false}) {
    const auto image = noise(rng, 97, 203, blurred);
    for (const auto& [low, high] : thresholds) {
      SCOPED_TRACE(std::to_string(low) + " " + std::to_string(high) + (blurred ? " blurred" : ""));
      expect_identical(canny_l1_3x3(image, low, high), cv_canny(image, low, high));
    }
  }
  for (int round = 0; round < 100; ++round) {
    const auto image = noise(rng, rng.uniform(1, 60), rng.uniform(1, 80), round % 2 == 0,
                             round % 3 == 0 ? CV_8UC3 : CV_8UC1);
    const double low = rng.uniform(0.0, 300.0);
    const double high = low + rng.uniform(0.0, 400.0);
    SCOPED_TRACE(std::to_string(low) + " " + std::to_string(high));
    expect_identical(canny_l1_3x3(image, low, high), cv_canny(image, low, high));
  }
}

// A picture with long edges in every direction (the diagonals' sign test, hysteresis along
// lines) and a view into it, whose rows are not contiguous and whose neighbours outside the view
// must not be read as its border. In colour its lines are each in one channel and its ellipse
// in all three alike: each pixel follows the channel whose gradient is strongest, the first of
// equals.
TEST(CannyL1Test, EqualsCvCannyOnShapesAndOnAViewIntoThem) {
  cv::Mat bgr = structured_image(640, 480);
  cv::line(bgr, {0, 0}, {639, 479}, {250, 0, 0}, 3);
  cv::line(bgr, {639, 0}, {0, 479}, {0, 0, 250}, 2);
  cv::ellipse(bgr, {320, 240}, {200, 90}, 30, 0, 360, {180, 180, 180}, 4);
  cv::GaussianBlur(bgr, bgr, {5, 5}, 2);
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  for (const auto& picture : {gray, bgr}) {
    SCOPED_TRACE(std::to_string(picture.channels()) + " channels");
    const auto edges = canny_l1_3x3(picture, 50, 150);
    expect_identical(edges, cv_canny(picture, 50, 150));
    EXPECT_GT(cv::countNonZero(edges), 2000) << "the picture must have edges to find";

    const cv::Mat view = picture(cv::Rect(13, 7, 301, 222));
    ASSERT_FALSE(view.isContinuous());
    expect_identical(canny_l1_3x3(view, 20, 60), cv_canny(view.clone(), 20, 60));
  }
}

TEST(CannyL1Test, AppliesOnlyWhereItIsCvCanny) {
  const cv::Mat gray(8, 8, CV_8UC1, cv::Scalar(0));
  EXPECT_TRUE(canny_l1_3x3_applies(gray, 50, 150, 3, false));
  EXPECT_TRUE(canny_l1_3x3_applies(cv::Mat(8, 8, CV_8UC3), 50, 150, 3, false));
  EXPECT_FALSE(canny_l1_3x3_applies(cv::Mat(8, 8, CV_8UC4), 50, 150, 3, false));
  EXPECT_FALSE(canny_l1_3x3_applies(cv::Mat(8, 8, CV_8UC2), 50, 150, 3, false));
  EXPECT_FALSE(canny_l1_3x3_applies(cv::Mat(8, 8, CV_16UC1), 50, 150, 3, false));
  EXPECT_FALSE(canny_l1_3x3_applies(cv::Mat(), 50, 150, 3, false));
  EXPECT_FALSE(canny_l1_3x3_applies(gray, 50, 150, 5, false));
  EXPECT_FALSE(canny_l1_3x3_applies(gray, 50, 150, 3, true));
  EXPECT_FALSE(canny_l1_3x3_applies(gray, 150, 50, 3, false));
  EXPECT_FALSE(canny_l1_3x3_applies(gray, -1, 50, 3, false));
}

// The stage with its defaults takes this kernel; its output is cv::Canny's.
TEST(CannyStage, DefaultsOnGrayAndColourMatchCvCanny) {
  cv::Mat bgr;
  cv::GaussianBlur(structured_image(), bgr, {5, 5}, 2);
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  for (const auto& image : {gray, bgr}) {
    const auto edges = transform_once("{type: canny}", image);
    expect_identical(edges, cv_canny(image, 50, 150));
    EXPECT_GT(cv::countNonZero(edges), 0) << "the test image must have edges to find";
  }
}

}  // namespace
}  // namespace framepipe::testing
