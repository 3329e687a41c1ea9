// canny: edge map (one 8-bit channel, 0 or 255) of each frame.
//   - { name: edges, type: canny, params: { low: 50, high: 150 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Canny : public TransformStage {
 public:
  explicit Canny(const Params& params)
      : low_(params.number("low")),
        high_(params.number("high")),
        aperture_(static_cast<int>(params.integer("aperture"))),
        l2_gradient_(params.boolean("l2_gradient")) {}

  bool process(Frame& frame) override {
    cv::Mat edges;
    cv::Canny(frame.image(), edges, low_, high_, aperture_, l2_gradient_);
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
  return {
      .type = "canny",
      .kind = StageKind::transform,
      .resource = ResourceClass::cpu,
      .ordering = Ordering::parallel,
      .summary = "Canny edge detector (cv::Canny); outputs a one-channel edge map.",
      .example = "- { name: edges, type: canny, params: { low: 50, high: 150 } }",
      .params = {ParamSpec::number("low", 50, "lower hysteresis threshold").range(0, 10000),
                 ParamSpec::number("high", 150, "upper hysteresis threshold").range(0, 10000),
                 ParamSpec::integer("aperture", 3, "Sobel aperture size: 3, 5 or 7").range(3, 7),
                 ParamSpec::boolean("l2_gradient", false,
                                    "use the exact L2 gradient norm instead of L1")},
      .create = [](const StageSetup& setup) { return std::make_unique<Canny>(setup.params); },
      .check =
          [](const Params& params) {
            std::vector<std::string> problems;
            if (params.integer("aperture") % 2 == 0)
              problems.push_back("'aperture' must be 3, 5 or 7");
            if (params.number("low") > params.number("high")) {
              problems.push_back("'low' must not exceed 'high'");
            }
            return problems;
          }};
}

}  // namespace framepipe::stages
