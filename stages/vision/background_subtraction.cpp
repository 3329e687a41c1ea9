// background_subtraction: separates moving foreground from a learned background with a
// Gaussian mixture model per pixel (cv::BackgroundSubtractorMOG2). The model learns from every
// frame, in order, so the stage is serial_in_order. `output: mask` emits MOG2's mask (255
// foreground, 127 shadow when detect_shadows is on, 0 background); `output: masked` emits the
// frame with everything but the foreground blacked out. Either way
// scalars["foreground"] is the fraction of the frame that is foreground (shadows excluded).
//   - { name: fg, type: background_subtraction, params: { history: 300, output: masked } }
#include <opencv2/video/background_segm.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class BackgroundSubtraction : public TransformStage {
 public:
  static inline const auto history =
      Param<int>{"history", 500, "frames the background model remembers"}.range(1, 100000);
  static inline const auto var_threshold =
      Param<double>{"var_threshold", 16,
                    "squared distance from the model beyond which a pixel is "
                    "foreground; higher marks less"}
          .range(0.1, 10000);
  static inline const Param<bool> detect_shadows{
      "detect_shadows", true, "mark shadows (gray, 127) apart from foreground; a little slower"};
  static inline const auto learning_rate =
      Param<double>{"learning_rate", -1,
                    "how fast the model adapts, 0 to 1; -1 picks it from history"}
          .range(-1, 1);
  static inline const auto output =
      Param<std::string>::choice("output", {"mask", "masked"}, "mask",
                                 "mask: the MOG2 mask; masked: the frame, black outside the "
                                 "foreground");

  explicit BackgroundSubtraction(const Params& params)
      : model_(cv::createBackgroundSubtractorMOG2(params[history], params[var_threshold],
                                                  params[detect_shadows])),
        learning_rate_(params[learning_rate]),
        masked_(params[output] == "masked") {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    cv::Mat mask;
    model_->apply(image, mask, learning_rate_);
    const cv::Mat foreground = mask == 255;
    frame.scalars["foreground"] =
        static_cast<double>(cv::countNonZero(foreground)) / static_cast<double>(mask.total());
    if (masked_) {
      cv::Mat kept(image.size(), image.type(), cv::Scalar::all(0));
      image.copyTo(kept, foreground);
      frame.set_image(std::move(kept));
    } else {
      frame.set_image(std::move(mask));
    }
    return true;
  }

 private:
  cv::Ptr<cv::BackgroundSubtractorMOG2> model_;
  double learning_rate_;
  bool masked_;
};

}  // namespace

StageInfo background_subtraction_stage() {
  return stage_info<BackgroundSubtraction>(
      {.type = "background_subtraction",
       .ordering = Ordering::serial_in_order,
       .summary = "MOG2 background subtraction: the foreground mask or the masked frame, and "
                  "scalars[\"foreground\"].",
       .example = "- { name: fg, type: background_subtraction, params: { history: 300, output: "
                  "masked } }",
       .params = {BackgroundSubtraction::history, BackgroundSubtraction::var_threshold,
                  BackgroundSubtraction::detect_shadows, BackgroundSubtraction::learning_rate,
                  BackgroundSubtraction::output},
       .check = [](const Params& params) {
         const auto rate = params[BackgroundSubtraction::learning_rate];
         return rate >= 0 || rate == -1
                    ? std::vector<std::string>{}
                    : std::vector<std::string>{
                          "'learning_rate' must be -1 (automatic) or in [0, 1], got " +
                          format_value(rate)};
       }});
}

}  // namespace framepipe::stages
