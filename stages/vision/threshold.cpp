// threshold: binarizes frames (one 8-bit channel, 0 or max_value); BGR frames are converted
// to gray first. binary / binary_inv compare with `value`; otsu picks the value per frame from
// its histogram; adaptive_* compare each pixel with the mean (or Gaussian-weighted mean) of
// its block_size neighbourhood minus c, which copes with uneven lighting.
//   - { name: mask, type: threshold, params: { mode: adaptive_gaussian, block_size: 11, c: 2 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"
#include "stages/vision/gray.h"

namespace framepipe::stages {

namespace {

class Threshold : public TransformStage {
 public:
  static inline const auto mode = Param<std::string>::choice(
      "mode", {"binary", "binary_inv", "otsu", "adaptive_mean", "adaptive_gaussian"}, "binary",
      "binary: > value becomes max_value; binary_inv: the opposite; "
      "otsu: value chosen per frame; adaptive_*: per neighbourhood");
  static inline const auto value =
      Param<double>{"value", 127, "threshold for binary and binary_inv"}.range(0, 255);
  static inline const auto max_value =
      Param<double>{"max_value", 255, "the value of pixels that pass"}.range(0, 255);
  static inline const auto block_size =
      Param<int>{"block_size", 11, "adaptive modes: neighbourhood side in pixels, odd"}.range(3,
                                                                                              255);
  static inline const auto c =
      Param<double>{"c", 2, "adaptive modes: subtracted from the neighbourhood mean"}.range(-255,
                                                                                            255);

  explicit Threshold(const Params& params)
      : mode_(params[mode]),
        value_(params[value]),
        max_value_(params[max_value]),
        block_size_(params[block_size]),
        c_(params[c]) {}

  bool process(Frame& frame) override {
    const cv::Mat gray = gray_of(frame);
    cv::Mat binary;
    if (mode_ == "adaptive_mean" || mode_ == "adaptive_gaussian") {
      const int method =
          mode_ == "adaptive_mean" ? cv::ADAPTIVE_THRESH_MEAN_C : cv::ADAPTIVE_THRESH_GAUSSIAN_C;
      cv::adaptiveThreshold(gray, binary, max_value_, method, cv::THRESH_BINARY, block_size_, c_);
    } else {
      const int type = mode_ == "binary_inv" ? cv::THRESH_BINARY_INV
                       : mode_ == "otsu"     ? cv::THRESH_BINARY | cv::THRESH_OTSU
                                             : cv::THRESH_BINARY;
      cv::threshold(gray, binary, value_, max_value_, type);
    }
    frame.set_image(std::move(binary));
    return true;
  }

 private:
  std::string mode_;
  double value_;
  double max_value_;
  int block_size_;
  double c_;
};

}  // namespace

StageInfo threshold_stage() {
  return stage_info<Threshold>(
      {.type = "threshold",
       .summary = "Binarizes the gray frame (cv::threshold, Otsu or cv::adaptiveThreshold).",
       .example = "- { name: mask, type: threshold, params: { mode: adaptive_gaussian, block_size: "
                  "11, c: 2 } }",
       .params = {Threshold::mode, Threshold::value, Threshold::max_value, Threshold::block_size,
                  Threshold::c},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         require_odd(params, Threshold::block_size, problems);
         return problems;
       }});
}

}  // namespace framepipe::stages
