// The stateless vision stages against independent references: the direct OpenCV calls on the
// same frame (bit for bit), or the computation written out with OpenCV primitives.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "stages/register_all.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

TEST(CropStage, KeepsTheRectangle) {
  const auto input = structured_image();
  const auto cropped =
      transform_once("{type: crop, params: {x: 10, y: 5, width: 40, height: 30}}", input);
  expect_identical(cropped, input(cv::Rect(10, 5, 40, 30)));
  EXPECT_TRUE(cropped.isContinuous());
}

TEST(CropStage, ARectangleOutsideTheFrameIsAnErrorNamingTheFrameSize) {
  StageHarness harness("{type: crop, params: {x: 150, y: 0, width: 40, height: 30}}");
  try {
    harness.push(make_frame(structured_image()));
    FAIL() << "a crop outside the frame was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("161x97 frame"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("40x30 at (150, 0)"), std::string::npos) << e.what();
  }
}

TEST(RotateStage, TurnsClockwise) {
  const auto input = structured_image();
  // Written out independently of cv::rotate: 90 clockwise is transpose then mirror.
  cv::Mat transposed;
  cv::transpose(input, transposed);
  cv::Mat quarter;
  cv::flip(transposed, quarter, 1);
  cv::Mat half;
  cv::flip(input, half, -1);
  cv::Mat three_quarters;
  cv::flip(transposed, three_quarters, 0);
  expect_identical(transform_once("{type: rotate, params: {angle: 90}}", input), quarter);
  expect_identical(transform_once("{type: rotate, params: {angle: 180}}", input), half);
  expect_identical(transform_once("{type: rotate, params: {angle: 270}}", input), three_quarters);
  expect_identical(transform_once("{type: rotate, params: {angle: 0}}", input), input);
}

TEST(FlipStage, MirrorsAlongTheAxis) {
  const auto input = structured_image();
  const auto horizontal = transform_once("{type: flip, params: {axis: horizontal}}", input);
  const auto vertical = transform_once("{type: flip, params: {axis: vertical}}", input);
  const auto both = transform_once("{type: flip, params: {axis: both}}", input);
  for (const auto& [y, x] : {std::pair{0, 0}, {17, 33}, {96, 160}}) {
    EXPECT_EQ(horizontal.at<cv::Vec3b>(y, x), input.at<cv::Vec3b>(y, input.cols - 1 - x));
    EXPECT_EQ(vertical.at<cv::Vec3b>(y, x), input.at<cv::Vec3b>(input.rows - 1 - y, x));
    EXPECT_EQ(both.at<cv::Vec3b>(y, x),
              input.at<cv::Vec3b>(input.rows - 1 - y, input.cols - 1 - x));
  }
  cv::Mat expected;
  cv::flip(input, expected, 1);
  expect_identical(horizontal, expected);
  cv::flip(input, expected, 0);
  expect_identical(vertical, expected);
  cv::flip(input, expected, -1);
  expect_identical(both, expected);
}

TEST(ConvertColorStage, MatchesCvtColorFromBgr) {
  const auto input = structured_image();
  const std::pair<const char*, int> spaces[] = {{"gray", cv::COLOR_BGR2GRAY},
                                                {"hsv", cv::COLOR_BGR2HSV},
                                                {"lab", cv::COLOR_BGR2Lab},
                                                {"ycrcb", cv::COLOR_BGR2YCrCb},
                                                {"rgb", cv::COLOR_BGR2RGB}};
  for (const auto& [name, code] : spaces) {
    SCOPED_TRACE(name);
    cv::Mat expected;
    cv::cvtColor(input, expected, code);
    expect_identical(
        transform_once(std::string("{type: convert_color, params: {to: ") + name + "}}", input),
        expected);
  }
  expect_identical(transform_once("{type: convert_color, params: {to: bgr}}", input), input);
}

TEST(ConvertColorStage, ConvertsGrayFramesFromGray) {
  const auto gray = gray_of(structured_image());
  cv::Mat bgr;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  cv::Mat hsv;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
  expect_identical(transform_once("{type: convert_color, params: {to: gray}}", gray), gray);
  expect_identical(transform_once("{type: convert_color, params: {to: bgr}}", gray), bgr);
  expect_identical(transform_once("{type: convert_color, params: {to: hsv}}", gray), hsv);
}

TEST(MedianBlurStage, MatchesCvMedianBlur) {
  const auto input = structured_image();
  cv::Mat expected;
  cv::medianBlur(input, expected, 5);
  expect_identical(transform_once("{type: median_blur, params: {ksize: 5}}", input), expected);
}

TEST(BilateralStage, MatchesCvBilateralFilter) {
  const auto input = structured_image();
  cv::Mat expected;
  cv::bilateralFilter(input, expected, 7, 50, 30);
  expect_identical(
      transform_once("{type: bilateral, params: {d: 7, sigma_color: 50, sigma_space: 30}}", input),
      expected);
}

// The unsharp mask written out pixel by pixel: in + amount * (in - blur), kept as it is where
// |in - blur| < threshold.
cv::Mat unsharp_by_hand(const cv::Mat& input, double sigma, double amount, double threshold) {
  cv::Mat blurred;
  cv::GaussianBlur(input, blurred, cv::Size(), sigma, sigma);
  cv::Mat result = input.clone();
  const auto* in = input.ptr<uchar>();
  const auto* blur = blurred.ptr<uchar>();
  auto* out = result.ptr<uchar>();
  for (std::size_t i = 0; i < input.total() * input.channels(); ++i) {
    const double detail = static_cast<double>(in[i]) - blur[i];
    if (std::abs(detail) >= threshold) out[i] = cv::saturate_cast<uchar>(in[i] + amount * detail);
  }
  return result;
}

TEST(SharpenStage, IsAnUnsharpMask) {
  const auto input = structured_image();
  for (const auto& image : {input, gray_of(input)}) {
    expect_identical(transform_once("{type: sharpen, params: {sigma: 2, amount: 1.5}}", image),
                     unsharp_by_hand(image, 2, 1.5, 0));
    expect_identical(
        transform_once("{type: sharpen, params: {sigma: 1, amount: 0.5, threshold: 6}}", image),
        unsharp_by_hand(image, 1, 0.5, 6));
  }
  expect_identical(transform_once("{type: sharpen, params: {amount: 0}}", input), input);
}

TEST(SobelStage, MatchesSobelThenConvertScaleAbs) {
  const auto input = structured_image();
  for (const auto& image : {input, gray_of(input)}) {
    cv::Mat derivative;
    cv::Sobel(image, derivative, CV_16S, 1, 1, 5, 0.5);
    cv::Mat expected;
    cv::convertScaleAbs(derivative, expected);
    expect_identical(
        transform_once("{type: sobel, params: {dx: 1, dy: 1, ksize: 5, scale: 0.5}}", image),
        expected);
  }
}

TEST(SobelStage, AVerticalStepGivesItsHeightTimesTheKernelWeight) {
  // A step from 0 to 100: the 3x3 Sobel x kernel sums 1 + 2 + 1 = 4 at the edge, so 400 x 0.25.
  cv::Mat step(20, 20, CV_8UC1, cv::Scalar(0));
  step.colRange(10, 20).setTo(100);
  const auto edges =
      transform_once("{type: sobel, params: {dx: 1, dy: 0, ksize: 3, scale: 0.25}}", step);
  EXPECT_EQ(edges.at<uchar>(5, 9), 100);
  EXPECT_EQ(edges.at<uchar>(5, 10), 100);
  EXPECT_EQ(edges.at<uchar>(5, 3), 0);
  EXPECT_EQ(edges.at<uchar>(5, 15), 0);
}

TEST(ThresholdStage, MatchesOpenCvOnTheGrayFrame) {
  const auto input = structured_image();
  const auto gray = gray_of(input);
  cv::Mat expected;
  cv::threshold(gray, expected, 100, 200, cv::THRESH_BINARY);
  expect_identical(
      transform_once("{type: threshold, params: {mode: binary, value: 100, max_value: 200}}",
                     input),
      expected);
  cv::threshold(gray, expected, 100, 255, cv::THRESH_BINARY_INV);
  expect_identical(
      transform_once("{type: threshold, params: {mode: binary_inv, value: 100}}", input), expected);
  cv::threshold(gray, expected, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  expect_identical(transform_once("{type: threshold, params: {mode: otsu}}", input), expected);
  cv::adaptiveThreshold(gray, expected, 255, cv::ADAPTIVE_THRESH_MEAN_C, cv::THRESH_BINARY, 15, 3);
  expect_identical(
      transform_once("{type: threshold, params: {mode: adaptive_mean, block_size: 15, c: 3}}",
                     input),
      expected);
  cv::adaptiveThreshold(gray, expected, 255, cv::ADAPTIVE_THRESH_GAUSSIAN_C, cv::THRESH_BINARY, 15,
                        3);
  const auto gaussian =
      "{type: threshold, params: {mode: adaptive_gaussian, block_size: 15, c: 3}}";
  expect_identical(transform_once(gaussian, input), expected);
  expect_identical(transform_once(gaussian, gray), expected);
}

TEST(MorphologyStage, MatchesErodeDilateAndMorphologyEx) {
  const auto input = structured_image();
  const std::pair<const char*, int> shapes[] = {
      {"rect", cv::MORPH_RECT}, {"ellipse", cv::MORPH_ELLIPSE}, {"cross", cv::MORPH_CROSS}};
  const std::pair<const char*, int> compound[] = {{"open", cv::MORPH_OPEN},
                                                  {"close", cv::MORPH_CLOSE},
                                                  {"gradient", cv::MORPH_GRADIENT},
                                                  {"tophat", cv::MORPH_TOPHAT},
                                                  {"blackhat", cv::MORPH_BLACKHAT}};
  for (const auto& [shape_name, shape] : shapes) {
    const auto kernel = cv::getStructuringElement(shape, {5, 5});
    const auto yaml = [&](const char* op) {
      return std::string("{type: morphology, params: {op: ") + op + ", shape: " + shape_name +
             ", ksize: 5, iterations: 2}}";
    };
    SCOPED_TRACE(shape_name);
    cv::Mat expected;
    cv::erode(input, expected, kernel, {-1, -1}, 2);
    expect_identical(transform_once(yaml("erode"), input), expected);
    cv::dilate(input, expected, kernel, {-1, -1}, 2);
    expect_identical(transform_once(yaml("dilate"), input), expected);
    for (const auto& [op_name, op] : compound) {
      SCOPED_TRACE(op_name);
      cv::morphologyEx(input, expected, op, kernel, {-1, -1}, 2);
      expect_identical(transform_once(yaml(op_name), input), expected);
    }
  }
}

TEST(EqualizeStage, EqualizesGrayFramesDirectly) {
  const auto gray = gray_of(structured_image());
  cv::Mat expected;
  cv::equalizeHist(gray, expected);
  expect_identical(transform_once("{type: equalize, params: {method: global}}", gray), expected);
  cv::createCLAHE(3.0, {4, 4})->apply(gray, expected);
  expect_identical(
      transform_once("{type: equalize, params: {method: clahe, clip_limit: 3, tile: 4}}", gray),
      expected);
}

TEST(EqualizeStage, EqualizesOnlyTheLumaOfColorFrames) {
  const auto input = structured_image();
  cv::Mat ycrcb;
  cv::cvtColor(input, ycrcb, cv::COLOR_BGR2YCrCb);
  std::vector<cv::Mat> planes;
  cv::split(ycrcb, planes);
  cv::equalizeHist(planes[0], planes[0]);
  cv::merge(planes, ycrcb);
  cv::Mat expected;
  cv::cvtColor(ycrcb, expected, cv::COLOR_YCrCb2BGR);
  expect_identical(transform_once("{type: equalize, params: {method: global}}", input), expected);
}

TEST(DenoiseStage, MatchesFastNlMeans) {
  const auto input = structured_image(64, 48);
  cv::Mat expected;
  cv::fastNlMeansDenoisingColored(input, expected, 6, 4, 5, 11);
  const auto yaml =
      "{type: denoise, params: {h: 6, h_color: 4, template_window: 5, search_window: 11}}";
  expect_identical(transform_once(yaml, input), expected);
  const auto gray = gray_of(input);
  cv::fastNlMeansDenoising(gray, expected, 6, 5, 11);
  expect_identical(transform_once(yaml, gray), expected);
}

// The text drawn by hand where the stage says it goes: `origin` is putText's baseline start.
cv::Mat with_text(const cv::Mat& image, const std::string& text, const std::string& position,
                  int margin, double scale, const cv::Scalar& color, int thickness) {
  cv::Mat expected = image.clone();
  int baseline = 0;
  const auto size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  const cv::Point origin(
      position.ends_with("left") ? margin : image.cols - margin - size.width,
      position.starts_with("top") ? margin + size.height : image.rows - margin - baseline);
  cv::putText(expected, text, origin, cv::FONT_HERSHEY_SIMPLEX, scale, color, thickness,
              cv::LINE_AA);
  return expected;
}

TEST(OverlayTextStage, DrawsTheExpandedTemplate) {
  const auto input = structured_image();
  for (const char* position : {"top_left", "bottom_right"}) {
    SCOPED_TRACE(position);
    StageHarness harness(
        std::string("{type: overlay_text, params: {text: \"f{frame} p{pts} t{time} {source}\", "
                    "position: ") +
        position + ", margin: 5, font_scale: 0.5, color: \"#ff8000\", thickness: 1}}");
    auto frame = make_frame(input, 7);
    frame.pts = 70;
    frame.time_base = {1, 250};
    frame.source = "/videos/clip.mp4";
    auto out = harness.push(frame);
    ASSERT_TRUE(out.has_value());
    expect_identical(out->image(), with_text(input, "f7 p70 t0.280 clip.mp4", position, 5, 0.5,
                                             {0, 128, 255}, 1));
  }
}

TEST(OverlayTextStage, DrawsTheColorsGrayLevelOnGrayFrames) {
  const auto gray = gray_of(structured_image());
  const auto out =
      transform_once("{type: overlay_text, params: {text: \"#{frame}\", color: red}}", gray);
  expect_identical(out,
                   with_text(gray, "#0", "top_left", 10, 1.0, cv::Scalar::all(0.299 * 255), 2));
}

TEST(VisionStages, BadParametersFailConfigValidation) {
  Registry registry;
  stages::register_all(registry);
  const std::pair<const char*, const char*> cases[] = {
      {"{type: median_blur, params: {ksize: 4}}", "'ksize' must be odd, got 4"},
      {"{type: morphology, params: {ksize: 6}}", "'ksize' must be odd, got 6"},
      {"{type: sobel, params: {dx: 0, dy: 0}}", "'dx' and 'dy' must not both be 0"},
      {"{type: sobel, params: {dx: 3, ksize: 3}}", "'dx' and 'dy' must be at most 2 with ksize 3"},
      {"{type: sobel, params: {ksize: 4}}", "'ksize' must be odd, got 4"},
      {"{type: threshold, params: {block_size: 10}}", "'block_size' must be odd, got 10"},
      {"{type: denoise, params: {template_window: 6}}", "'template_window' must be odd, got 6"},
      {"{type: rotate, params: {angle: 45}}", "'angle' must be 0, 90, 180 or 270, got 45"},
      {"{type: overlay_text, params: {text: \"{frames}\"}}", "unknown field '{frames}'"},
      {"{type: overlay_text, params: {text: \"{frame\"}}", "'{' without a closing '}'"},
      {"{type: overlay_text, params: {color: \"#12345\"}}",
       "'color' must be a color name or \"#rrggbb\", got '#12345'"},
      {"{type: optical_flow, params: {poly_n: 6}}", "'poly_n' must be 5 or 7, got 6"},
      {"{type: background_subtraction, params: {learning_rate: -0.5}}",
       "'learning_rate' must be -1 (automatic) or in [0, 1], got -0.5"},
      {"{type: convert_color, params: {to: xyz}}", "xyz"},
      {"{type: crop, params: {width: 0}}", "'width'"},
      {"{type: motion, concurrency: 4}", "'concurrency' must be 1"},
  };
  for (const auto& [yaml, expected] : cases) {
    SCOPED_TRACE(yaml);
    try {
      load_stage_text(yaml, registry);
      ADD_FAILURE() << "validation accepted it";
    } catch (const ConfigError& e) {
      ASSERT_EQ(e.problems().size(), 1u) << e.what();
      EXPECT_NE(e.problems()[0].find(expected), std::string::npos) << e.problems()[0];
    }
  }
}

}  // namespace
}  // namespace framepipe::testing
