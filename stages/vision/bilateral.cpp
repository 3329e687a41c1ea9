// bilateral: edge-preserving smoothing: neighbours are weighted by distance and by color
// difference, so flat areas blur and edges stay sharp. Slow for large d.
//   - { name: smooth, type: bilateral, params: { d: 9, sigma_color: 75, sigma_space: 75 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Bilateral : public TransformStage {
 public:
  static inline const auto d =
      Param<int>{"d", 9, "neighbourhood diameter in pixels: 5 is fast, 9 is strong"}.range(1, 50);
  static inline const auto sigma_color =
      Param<double>{"sigma_color", 75,
                    "how different colors may be and still be mixed (0-255 scale)"}
          .range(0.1, 1000);
  static inline const auto sigma_space =
      Param<double>{"sigma_space", 75, "how far apart pixels may be and still mix"}.range(0.1,
                                                                                          1000);

  explicit Bilateral(const Params& params)
      : diameter_(params[d]),
        sigma_color_(params[sigma_color]),
        sigma_space_(params[sigma_space]) {}

  bool process(Frame& frame) override {
    cv::Mat smoothed;
    cv::bilateralFilter(frame.image(), smoothed, diameter_, sigma_color_, sigma_space_);
    frame.set_image(std::move(smoothed));
    return true;
  }

 private:
  int diameter_;
  double sigma_color_;
  double sigma_space_;
};

}  // namespace

StageInfo bilateral_stage() {
  return stage_info<Bilateral>(
      {.type = "bilateral",
       .summary = "Edge-preserving bilateral filter (cv::bilateralFilter).",
       .example = "- { name: smooth, type: bilateral, params: { d: 9, sigma_color: 75, "
                  "sigma_space: 75 } }",
       .params = {Bilateral::d, Bilateral::sigma_color, Bilateral::sigma_space}});
}

}  // namespace framepipe::stages
