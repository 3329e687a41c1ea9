// resize: scales each frame to a fixed size.
//   - { name: small, type: resize, params: { width: 960, height: 540, interpolation: area } }
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

  explicit Resize(const Params& params)
      : size_(params[width], params[height]), interpolation_(params[interpolation]) {}

  bool process(Frame& frame) override {
    cv::Mat resized;
    cv::resize(frame.image(), resized, size_, 0, 0, interpolation_);
    frame.set_image(std::move(resized));
    return true;
  }

 private:
  cv::Size size_;
  int interpolation_;
};

}  // namespace

StageInfo resize_stage() {
  return stage_info<Resize>(
      {.type = "resize",
       .summary = "Scales frames to width x height (cv::resize).",
       .example = "- { name: small, type: resize, params: { width: 960, height: 540 } }",
       .params = {Resize::width, Resize::height, Resize::interpolation}});
}

}  // namespace framepipe::stages
