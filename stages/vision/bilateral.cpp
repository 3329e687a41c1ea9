// bilateral: edge-preserving smoothing: neighbours are weighted by distance and by color
// difference, so flat areas blur and edges stay sharp. Slow for large d.
//   - { name: smooth, type: bilateral, params: { d: 9, sigma_color: 75, sigma_space: 75 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Bilateral : public TransformStage {
 public:
  explicit Bilateral(const Params& params)
      : diameter_(static_cast<int>(params.integer("d"))),
        sigma_color_(params.number("sigma_color")),
        sigma_space_(params.number("sigma_space")) {}

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
  return {
      .type = "bilateral",
      .kind = StageKind::transform,
      .resource = ResourceClass::cpu,
      .ordering = Ordering::parallel,
      .summary = "Edge-preserving bilateral filter (cv::bilateralFilter).",
      .example =
          "- { name: smooth, type: bilateral, params: { d: 9, sigma_color: 75, "
          "sigma_space: 75 } }",
      .params = {ParamSpec::integer("d", 9,
                                    "neighbourhood diameter in pixels: 5 is fast, 9 is strong")
                     .range(1, 50),
                 ParamSpec::number("sigma_color", 75,
                                   "how different colors may be and still be mixed (0-255 scale)")
                     .range(0.1, 1000),
                 ParamSpec::number("sigma_space", 75, "how far apart pixels may be and still mix")
                     .range(0.1, 1000)},
      .create = [](const StageSetup& setup) { return std::make_unique<Bilateral>(setup.params); }};
}

}  // namespace framepipe::stages
