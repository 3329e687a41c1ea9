// resize: scales each frame to a fixed size, or to fit inside one keeping its aspect ratio.
//   - { name: small, type: resize, params: { width: 960, height: 540, interpolation: area } }
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Resize : public TransformStage {
 public:
  static inline const auto width =
      Param<int>{"width", 640, "output width in pixels"}.range(1, 16384);
  static inline const auto height =
      Param<int>{"height", 360, "output height in pixels"}.range(1, 16384);
  static inline const auto interpolation =
      Param<int>::choice("interpolation",
                         {{"nearest", cv::INTER_NEAREST},
                          {"linear", cv::INTER_LINEAR},
                          {"cubic", cv::INTER_CUBIC},
                          {"area", cv::INTER_AREA},
                          {"lanczos", cv::INTER_LANCZOS4}},
                         "linear", "OpenCV interpolation: area is best for shrinking");
  static inline const auto fit = Param<bool>::choice(
      "fit", {{"exact", false}, {"inside", true}}, "exact",
      "exact: width x height; inside: the largest size within width x height with the frame's "
      "aspect ratio, never larger than the frame (photos of any shape for the web)");

  explicit Resize(const Params& params)
      : size_(params[width], params[height]),
        interpolation_(params[interpolation]),
        inside_(params[fit]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    cv::Size size = size_;
    if (inside_) {
      const double scale = std::min({1.0, static_cast<double>(size_.width) / image.cols,
                                     static_cast<double>(size_.height) / image.rows});
      size = {std::max(1, static_cast<int>(std::lround(image.cols * scale))),
              std::max(1, static_cast<int>(std::lround(image.rows * scale)))};
    }
    cv::Mat resized;
    cv::resize(image, resized, size, 0, 0, interpolation_);
    frame.set_image(std::move(resized));
    return true;
  }

 private:
  cv::Size size_;
  int interpolation_;
  bool inside_;
};

}  // namespace

StageInfo resize_stage() {
  return stage_info<Resize>(
      {.type = "resize",
       .summary = "Scales frames to width x height, or to fit inside it keeping their aspect "
                  "ratio (cv::resize).",
       .example = "- { name: small, type: resize, params: { width: 960, height: 540 } }",
       .params = {Resize::width, Resize::height, Resize::interpolation, Resize::fit}});
}

}  // namespace framepipe::stages
