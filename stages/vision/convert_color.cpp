// convert_color: converts BGR frames (or gray ones) to another color space. The result is
// still an 8-bit 3-channel (or, for gray, 1-channel) image that later stages treat as BGR, so
// an encoder shows hsv, lab, ycrcb and rgb frames in false colors: this is for analysis stages.
//   - { name: hsv, type: convert_color, params: { to: hsv } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

// cv::cvtColor codes from BGR; -1 means the frame is already in that space.
int code_from_bgr(const std::string& to) {
  if (to == "gray") return cv::COLOR_BGR2GRAY;
  if (to == "hsv") return cv::COLOR_BGR2HSV;
  if (to == "lab") return cv::COLOR_BGR2Lab;
  if (to == "ycrcb") return cv::COLOR_BGR2YCrCb;
  if (to == "rgb") return cv::COLOR_BGR2RGB;
  return -1;
}

class ConvertColor : public TransformStage {
 public:
  explicit ConvertColor(const Params& params)
      : to_gray_(params.string("to") == "gray"), code_(code_from_bgr(params.string("to"))) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    cv::Mat converted;
    if (image.channels() == 1) {
      if (to_gray_) return true;
      // Gray to a color space goes through BGR: gray's B = G = R.
      cv::cvtColor(image, converted, cv::COLOR_GRAY2BGR);
      if (code_ != -1) cv::cvtColor(converted, converted, code_);
    } else {
      if (code_ == -1) return true;
      cv::cvtColor(image, converted, code_);
    }
    frame.set_image(std::move(converted));
    return true;
  }

 private:
  bool to_gray_;
  int code_;
};

}  // namespace

StageInfo convert_color_stage() {
  return {.type = "convert_color",
          .kind = StageKind::transform,
          .resource = ResourceClass::cpu,
          .ordering = Ordering::parallel,
          .summary =
              "Converts BGR (or gray) frames to gray, hsv, lab, ycrcb, rgb or bgr "
              "(cv::cvtColor).",
          .example = "- { name: hsv, type: convert_color, params: { to: hsv } }",
          .params = {ParamSpec::choice("to", {"gray", "hsv", "lab", "ycrcb", "rgb", "bgr"}, "gray",
                                       "target color space; hsv has hue in [0, 180)")},
          .create = [](const StageSetup& setup) {
            return std::make_unique<ConvertColor>(setup.params);
          }};
}

}  // namespace framepipe::stages
