// canny: edge map (one 8-bit channel, 0 or 255) of each frame.
//   - { name: edges, type: canny, params: { low: 50, high: 150 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"
#include "stages/vision/canny_l1.h"

namespace framepipe::stages {

namespace {

class Canny : public TransformStage {
 public:
  static inline const auto low =
      Param<double>{"low", 50, "lower hysteresis threshold"}.range(0, 10000);
  static inline const auto high =
      Param<double>{"high", 150, "upper hysteresis threshold"}.range(0, 10000);
  static inline const auto aperture =
      Param<int>{"aperture", 3, "Sobel aperture size: 3, 5 or 7"}.range(3, 7);
  static inline const Param<bool> l2_gradient{"l2_gradient", false,
                                              "use the exact L2 gradient norm instead of L1"};

  explicit Canny(const Params& params)
      : low_(params[low]),
        high_(params[high]),
        aperture_(params[aperture]),
        l2_gradient_(params[l2_gradient]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    if (canny_l1_3x3_applies(image, low_, high_, aperture_, l2_gradient_)) {
      frame.set_image(canny_l1_3x3(image, low_, high_));
      return true;
    }
    cv::Mat edges;
    cv::Canny(image, edges, low_, high_, aperture_, l2_gradient_);
    frame.set_image(std::move(edges));
    return true;
  }

 private:
  double low_;
  double high_;
  int aperture_;
  bool l2_gradient_;
};

}  // namespace

StageInfo canny_stage() {
  return stage_info<Canny>(
      {.type = "canny",
       .summary = "Canny edge detector: cv::Canny's one-channel edge map (with aperture 3 and the "
                  "L1 norm, from framepipe's vectorized kernel, stages/vision/canny_l1.h).",
       .example = "- { name: edges, type: canny, params: { low: 50, high: 150 } }",
       .params = {Canny::low, Canny::high, Canny::aperture, Canny::l2_gradient},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         if (params[Canny::aperture] % 2 == 0) problems.push_back("'aperture' must be 3, 5 or 7");
         if (params[Canny::low] > params[Canny::high]) {
           problems.push_back("'low' must not exceed 'high'");
         }
         return problems;
       }});
}

}  // namespace framepipe::stages
