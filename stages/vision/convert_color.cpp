// convert_color: converts BGR frames (or gray ones) to another color space. The result is
// still an 8-bit 3-channel (or, for gray, 1-channel) image that later stages treat as BGR, so
// an encoder shows hsv, lab, ycrcb and rgb frames in false colors: this is for analysis stages.
//   - { name: hsv, type: convert_color, params: { to: hsv } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"
#include "stages/vision/gray.h"

namespace framepipe::stages {

namespace {

class ConvertColor : public TransformStage {
 public:
  // Read as the cv::cvtColor code from BGR; -1 means the frame is already in that space.
  static inline const auto to =
      Param<int>::choice("to",
                         {{"gray", cv::COLOR_BGR2GRAY},
                          {"hsv", cv::COLOR_BGR2HSV},
                          {"lab", cv::COLOR_BGR2Lab},
                          {"ycrcb", cv::COLOR_BGR2YCrCb},
                          {"rgb", cv::COLOR_BGR2RGB},
                          {"bgr", -1}},
                         "gray", "target color space; hsv has hue in [0, 180)");

  explicit ConvertColor(const Params& params)
      : to_gray_(params[to] == cv::COLOR_BGR2GRAY), code_(params[to]) {}

  bool process(Frame& frame) override {
    // Gray straight from the decoder's planes when no stage has needed BGR yet, as grayscale.
    if (to_gray_) {
      frame.set_image(gray_of(frame));
      return true;
    }
    const cv::Mat& image = frame.image();
    cv::Mat converted;
    if (image.channels() == 1) {
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
  return stage_info<ConvertColor>(
      {.type = "convert_color",
       .summary =
           "Converts BGR (or gray) frames to gray, hsv, lab, ycrcb, rgb or bgr "
           "(cv::cvtColor). `to: gray` straight after decode takes its gray from the "
           "decoder's YUV planes, as `grayscale` does, and like it runs before a channel-wise "
           "linear filter that feeds it ([graph rewrites](config.md#graph-rewrites)).",
       .example = "- { name: hsv, type: convert_color, params: { to: hsv } }",
       .params = {ConvertColor::to},
       .pixel_properties = [](const Params& params) {
         return PixelProperties{.linear_map_to_gray =
                                    params[ConvertColor::to] == cv::COLOR_BGR2GRAY};
       }});
}

}  // namespace framepipe::stages
