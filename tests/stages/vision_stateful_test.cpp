// The stateful vision stages (serial_in_order) on short synthetic sequences: each against the
// same OpenCV object driven directly, and their scalars against values worked out by hand.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/video/background_segm.hpp>
#include <opencv2/video/tracking.hpp>

#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

constexpr int kFrameWidth = 64;
constexpr int kFrameHeight = 48;

// A textured background with a colored rectangle moving 3 pixels right and 1 down per frame.
std::vector<cv::Mat> moving_rectangle(int frames) {
  cv::Mat background(kFrameHeight, kFrameWidth, CV_8UC3);
  cv::RNG rng(11);
  rng.fill(background, cv::RNG::UNIFORM, cv::Scalar::all(40), cv::Scalar::all(90));
  std::vector<cv::Mat> sequence;
  for (int i = 0; i < frames; ++i) {
    cv::Mat frame = background.clone();
    cv::rectangle(frame, cv::Rect(5 + 3 * i, 10 + i, 14, 10), {30, 220, 250}, cv::FILLED);
    sequence.push_back(frame);
  }
  return sequence;
}

TEST(BackgroundSubtractionStage, MatchesMog2DrivenDirectly) {
  StageHarness harness(
      "{type: background_subtraction, params: {history: 50, var_threshold: 20, "
      "detect_shadows: true}}");
  auto model = cv::createBackgroundSubtractorMOG2(50, 20, true);
  const auto sequence = moving_rectangle(8);
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    SCOPED_TRACE(i);
    cv::Mat expected;
    model->apply(sequence[i], expected);
    auto out = harness.push(make_frame(sequence[i], static_cast<std::int64_t>(i)));
    ASSERT_TRUE(out.has_value());
    expect_identical(out->image(), expected);
    EXPECT_DOUBLE_EQ(out->scalars.at("foreground"),
                     cv::countNonZero(expected == 255) / double(kFrameWidth * kFrameHeight));
  }
}

TEST(BackgroundSubtractionStage, AnAppearingSquareIsItsShareOfTheFrame) {
  StageHarness harness(
      "{type: background_subtraction, params: {detect_shadows: false, output: masked}}");
  const cv::Mat still(kFrameHeight, kFrameWidth, CV_8UC3, cv::Scalar(60, 80, 100));
  for (int i = 0; i < 6; ++i) harness.push(make_frame(still, i));
  cv::Mat with_square = still.clone();
  const cv::Rect square(20, 12, 16, 12);
  with_square(square).setTo(cv::Scalar(250, 250, 250));
  auto out = harness.push(make_frame(with_square, 6));
  ASSERT_TRUE(out.has_value());
  EXPECT_DOUBLE_EQ(out->scalars.at("foreground"), 16.0 * 12 / (kFrameWidth * kFrameHeight));
  // masked: the square as it is, black everywhere else.
  cv::Mat expected(kFrameHeight, kFrameWidth, CV_8UC3, cv::Scalar::all(0));
  expected(square).setTo(cv::Scalar(250, 250, 250));
  expect_identical(out->image(), expected);
}

TEST(MotionStage, ScoresTheMeanAbsoluteDifferenceOfGrayFrames) {
  StageHarness harness("{type: motion}");
  const cv::Mat black(kFrameHeight, kFrameWidth, CV_8UC3, cv::Scalar::all(0));
  cv::Mat square = black.clone();
  square(cv::Rect(8, 8, 16, 12)).setTo(cv::Scalar::all(255));
  const cv::Mat dim(kFrameHeight, kFrameWidth, CV_8UC3, cv::Scalar::all(51));
  // Worked out by hand on a 64x48 frame (3072 pixels):
  //  - the first frame has nothing to compare with: 0; identical frames: 0;
  //  - a white 16x12 square appearing on black: 192 x 255 / (3072 x 255) = 0.0625;
  //  - then all pixels at 51: (192 x |51 - 255| + 2880 x 51) / 3072 / 255 = 0.2375.
  const std::pair<cv::Mat, double> steps[] = {
      {black, 0.0}, {black, 0.0}, {square, 0.0625}, {square, 0.0}, {dim, 0.2375}};
  std::int64_t index = 0;
  for (const auto& [image, score] : steps) {
    SCOPED_TRACE(index);
    auto out = harness.push(make_frame(image, index++));
    ASSERT_TRUE(out.has_value());
    EXPECT_NEAR(out->scalars.at("motion"), score, 1e-12);
    EXPECT_EQ(out->image().data, image.data) << "the image passes through unchanged";
  }
}

TEST(MotionStage, MatchesAbsdiffOnAMovingRectangle) {
  StageHarness harness("{type: motion}");
  const auto sequence = moving_rectangle(5);
  for (std::size_t i = 1; i < sequence.size(); ++i) {
    if (i == 1) harness.push(make_frame(sequence[0], 0));
    cv::Mat difference;
    cv::absdiff(gray_of(sequence[i]), gray_of(sequence[i - 1]), difference);
    auto out = harness.push(make_frame(sequence[i], static_cast<std::int64_t>(i)));
    ASSERT_TRUE(out.has_value());
    EXPECT_DOUBLE_EQ(out->scalars.at("motion"), cv::mean(difference)[0] / 255);
    EXPECT_GT(out->scalars.at("motion"), 0.0);
  }
}

TEST(MotionStage, ThresholdDropsStillFrames) {
  StageHarness harness("{type: motion, params: {threshold: 0.05}}");
  const cv::Mat black(kFrameHeight, kFrameWidth, CV_8UC1, cv::Scalar(0));
  cv::Mat square = black.clone();
  square(cv::Rect(8, 8, 16, 12)).setTo(255);  // 0.0625 of the frame changes
  cv::Mat small_square = black.clone();
  small_square(cv::Rect(8, 8, 8, 12)).setTo(255);  // 0.03125 changes back
  EXPECT_FALSE(harness.push(make_frame(black, 0))) << "the first frame scores 0";
  EXPECT_FALSE(harness.push(make_frame(black, 1)));
  EXPECT_TRUE(harness.push(make_frame(square, 2)));
  EXPECT_FALSE(harness.push(make_frame(small_square, 3)));
}

// A smooth random texture, wide enough to slide a window over.
cv::Mat texture() {
  cv::Mat noise(kFrameHeight + 40, kFrameWidth + 40, CV_8UC3);
  cv::RNG rng(5);
  rng.fill(noise, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::Mat smooth;
  cv::GaussianBlur(noise, smooth, cv::Size(), 2.0);
  return smooth;
}

// Frames whose content moves `step` pixels right per frame.
std::vector<cv::Mat> sliding(int frames, int step) {
  const auto source = texture();
  std::vector<cv::Mat> sequence;
  for (int i = 0; i < frames; ++i) {
    sequence.push_back(source(cv::Rect(30 - step * i, 20, kFrameWidth, kFrameHeight)).clone());
  }
  return sequence;
}

// The usual flow picture, written out: hue = half the angle in degrees, full saturation,
// value = speed scaled so the fastest pixel is 255.
cv::Mat flow_picture(const cv::Mat& flow) {
  cv::Mat xy[2];
  cv::split(flow, xy);
  cv::Mat speed;
  cv::Mat angle;
  cv::cartToPolar(xy[0], xy[1], speed, angle, true);
  cv::Mat hsv_planes[3];
  angle.convertTo(hsv_planes[0], CV_8U, 0.5);
  hsv_planes[1] = cv::Mat(flow.size(), CV_8U, cv::Scalar(255));
  cv::normalize(speed, hsv_planes[2], 0, 255, cv::NORM_MINMAX, CV_8U);
  cv::Mat hsv;
  cv::merge(hsv_planes, 3, hsv);
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  return bgr;
}

TEST(OpticalFlowStage, MatchesFarnebackDrivenDirectly) {
  StageHarness harness(
      "{type: optical_flow, params: {pyr_scale: 0.5, levels: 2, winsize: 9, iterations: 2, "
      "poly_n: 7, poly_sigma: 1.5}}");
  const auto sequence = moving_rectangle(5);
  auto first = harness.push(make_frame(sequence[0], 0));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->scalars.at("flow_mean"), 0.0) << "no flow before the second frame";
  EXPECT_EQ(cv::countNonZero(gray_of(first->image())), 0);
  for (std::size_t i = 1; i < sequence.size(); ++i) {
    SCOPED_TRACE(i);
    cv::Mat flow;
    cv::calcOpticalFlowFarneback(gray_of(sequence[i - 1]), gray_of(sequence[i]), flow, 0.5, 2, 9, 2,
                                 7, 1.5, 0);
    cv::Mat xy[2];
    cv::split(flow, xy);
    cv::Mat speed;
    cv::magnitude(xy[0], xy[1], speed);
    auto out = harness.push(make_frame(sequence[i], static_cast<std::int64_t>(i)));
    ASSERT_TRUE(out.has_value());
    expect_identical(out->image(), flow_picture(flow));
    EXPECT_NEAR(out->scalars.at("flow_mean"), cv::mean(speed)[0], 1e-4);
  }
}

TEST(OpticalFlowStage, AGlobalShiftRightShowsItsSpeedInRed) {
  StageHarness harness("{type: optical_flow}");
  const auto sequence = sliding(3, 2);
  std::optional<Frame> out;
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    out = harness.push(make_frame(sequence[i], static_cast<std::int64_t>(i)));
  }
  ASSERT_TRUE(out.has_value());
  EXPECT_NEAR(out->scalars.at("flow_mean"), 2.0, 0.5);
  // Rightwards is hue 0: red in the middle of the picture.
  const auto centre = out->image().at<cv::Vec3b>(kFrameHeight / 2, kFrameWidth / 2);
  EXPECT_GT(centre[2], 100);
  EXPECT_LT(centre[0], centre[2] / 3);
  EXPECT_LT(centre[1], centre[2] / 3);
}

}  // namespace
}  // namespace framepipe::testing
