// grayscale: converts BGR frames to one 8-bit channel; gray frames pass unchanged.
//   - { name: gray, type: grayscale }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Grayscale : public TransformStage {
 public:
  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    if (image.channels() == 1) return true;
    cv::Mat gray;
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    frame.set_image(std::move(gray));
    return true;
  }
};

}  // namespace

StageInfo grayscale_stage() {
  return {.type = "grayscale",
          .kind = StageKind::transform,
          .resource = ResourceClass::cpu,
          .ordering = Ordering::parallel,
          .summary = "Converts BGR frames to 8-bit gray (cv::cvtColor BGR2GRAY).",
          .example = "- { name: gray, type: grayscale }",
          .create = [](const StageSetup&) { return std::make_unique<Grayscale>(); }};
}

}  // namespace framepipe::stages
