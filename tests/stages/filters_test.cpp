// Each vision filter must equal the direct OpenCV call on the same frame, bit for bit.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

TEST(ResizeStage, MatchesCvResizeForEachInterpolation) {
  const auto input = structured_image();
  const std::pair<const char*, int> modes[] = {{"nearest", cv::INTER_NEAREST},
                                               {"linear", cv::INTER_LINEAR},
                                               {"cubic", cv::INTER_CUBIC},
                                               {"area", cv::INTER_AREA},
                                               {"lanczos", cv::INTER_LANCZOS4}};
  for (const auto& [name, flag] : modes) {
    SCOPED_TRACE(name);
    cv::Mat expected;
    cv::resize(input, expected, {64, 48}, 0, 0, flag);
    expect_identical(
        transform_once(
            std::string("{type: resize, params: {width: 64, height: 48, interpolation: ") + name +
                "}}",
            input),
        expected);
  }
}

// fit: inside keeps the aspect ratio (161x97 in 64x64: 64 wide, 97 * 64 / 161 = 38.6 → 39 high)
// and never enlarges.
TEST(ResizeStage, FitInsideKeepsTheAspectRatioAndNeverEnlarges) {
  const auto input = structured_image(161, 97);
  cv::Mat expected;
  cv::resize(input, expected, {64, 39}, 0, 0, cv::INTER_AREA);
  expect_identical(transform_once("{type: resize, params: {width: 64, height: 64, fit: inside, "
                                  "interpolation: area}}",
                                  input),
                   expected);
  cv::resize(input, expected, {38, 23}, 0, 0, cv::INTER_AREA);
  expect_identical(transform_once("{type: resize, params: {width: 400, height: 23, fit: inside, "
                                  "interpolation: area}}",
                                  input),
                   expected);
  expect_identical(
      transform_once("{type: resize, params: {width: 1000, height: 1000, fit: inside}}", input),
      input);
}

TEST(GrayscaleStage, MatchesCvtColorAndPassesGrayThrough) {
  const auto input = structured_image();
  cv::Mat expected;
  cv::cvtColor(input, expected, cv::COLOR_BGR2GRAY);
  const auto gray = transform_once("{type: grayscale}", input);
  expect_identical(gray, expected);
  expect_identical(transform_once("{type: grayscale}", gray), gray);
}

TEST(GaussianBlurStage, MatchesCvGaussianBlur) {
  const auto input = structured_image();
  cv::Mat expected;
  cv::GaussianBlur(input, expected, {7, 7}, 1.5, 1.5);
  expect_identical(transform_once("{type: gaussian_blur, params: {ksize: 7, sigma: 1.5}}", input),
                   expected);
}

// A decoded picture is a view into a padded buffer: the blur reflects the picture at its edges
// (as it does a picture of its own) rather than reading the padding past them.
TEST(GaussianBlurStage, ReflectsAtTheEdgesOfAPictureThatIsAView) {
  cv::Mat buffer = structured_image(181, 117);
  buffer(cv::Rect(161, 0, 20, 117)).setTo(cv::Scalar(255, 0, 255));
  buffer(cv::Rect(0, 97, 181, 20)).setTo(cv::Scalar(0, 255, 0));
  const cv::Mat view = buffer(cv::Rect(0, 0, 161, 97));
  cv::Mat expected;
  cv::GaussianBlur(view.clone(), expected, {5, 5}, 2, 2);
  StageHarness harness("{type: gaussian_blur, params: {ksize: 5, sigma: 2}}");
  auto out = harness.push(make_frame(view));
  ASSERT_TRUE(out.has_value());
  expect_identical(out->image(), expected);
}

TEST(CannyStage, MatchesCvCannyOnColorAndGray) {
  const auto input = structured_image();
  cv::Mat gray;
  cv::cvtColor(input, gray, cv::COLOR_BGR2GRAY);
  for (const auto& image : {input, gray}) {
    cv::Mat expected;
    cv::Canny(image, expected, 40, 120, 5, true);
    const auto edges = transform_once(
        "{type: canny, params: {low: 40, high: 120, aperture: 5, l2_gradient: true}}", image);
    expect_identical(edges, expected);
    EXPECT_GT(cv::countNonZero(edges), 0) << "the test image must have edges to find";
  }
}

}  // namespace
}  // namespace framepipe::testing
