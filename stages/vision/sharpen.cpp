// sharpen: unsharp mask. Each pixel moves away from its Gaussian-blurred value:
// out = in + amount * (in - blur(in, sigma)), saturated to 8 bits; pixels whose |in - blur| is
// below `threshold` (per channel) stay as they are, so flat, noisy areas are not sharpened.
//   - { name: crisp, type: sharpen, params: { sigma: 1.5, amount: 1.0, threshold: 4 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Sharpen : public TransformStage {
 public:
  static inline const auto sigma =
      Param<double>{"sigma", 1.5,
                    "standard deviation of the blur in pixels: the size of the "
                    "details that get sharpened"}
          .range(0.1, 100);
  static inline const auto amount =
      Param<double>{"amount", 1.0, "strength: 0 leaves the frame as it is"}.range(0, 20);
  static inline const auto threshold =
      Param<double>{"threshold", 0,
                    "leave pixels whose difference from the blur is below this "
                    "(0-255), to spare noise"}
          .range(0, 255);

  explicit Sharpen(const Params& params)
      : sigma_(params[sigma]), amount_(params[amount]), threshold_(params[threshold]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    cv::Mat blurred;
    cv::GaussianBlur(image, blurred, cv::Size(), sigma_, sigma_);
    cv::Mat sharpened;
    cv::addWeighted(image, 1.0 + amount_, blurred, -amount_, 0.0, sharpened);
    if (threshold_ > 0) {
      cv::Mat difference;
      cv::absdiff(image, blurred, difference);
      image.copyTo(sharpened, difference < threshold_);
    }
    frame.set_image(std::move(sharpened));
    return true;
  }

 private:
  double sigma_;
  double amount_;
  double threshold_;
};

}  // namespace

StageInfo sharpen_stage() {
  return stage_info<Sharpen>(
      {.type = "sharpen",
       .summary = "Unsharp mask: in + amount x (in - gaussian_blur(in, sigma)), skipping "
                  "differences below threshold.",
       .example = "- { name: crisp, type: sharpen, params: { sigma: 1.5, amount: 1.0, threshold: 4 "
                  "} }",
       .params = {Sharpen::sigma, Sharpen::amount, Sharpen::threshold}});
}

}  // namespace framepipe::stages
