// flip: mirrors each frame. Rotation by multiples of 90 degrees is the separate `rotate` stage.
//   - { name: mirror, type: flip, params: { axis: horizontal } }
#include <opencv2/core.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

// cv::flip's codes: 1 mirrors left-right, 0 upside down, -1 both (= rotate 180).
int flip_code(const std::string& axis) {
  if (axis == "vertical") return 0;
  if (axis == "both") return -1;
  return 1;
}

class Flip : public TransformStage {
 public:
  explicit Flip(const Params& params) : code_(flip_code(params.string("axis"))) {}

  bool process(Frame& frame) override {
    cv::Mat flipped;
    cv::flip(frame.image(), flipped, code_);
    frame.set_image(std::move(flipped));
    return true;
  }

 private:
  int code_;
};

}  // namespace

StageInfo flip_stage() {
  return {.type = "flip",
          .kind = StageKind::transform,
          .resource = ResourceClass::cpu,
          .ordering = Ordering::parallel,
          .summary = "Mirrors frames left-right, upside down or both (cv::flip).",
          .example = "- { name: mirror, type: flip, params: { axis: horizontal } }",
          .params = {ParamSpec::choice("axis", {"horizontal", "vertical", "both"}, "horizontal",
                                       "horizontal mirrors left-right, vertical turns upside "
                                       "down, both does both")},
          .create = [](const StageSetup& setup) { return std::make_unique<Flip>(setup.params); }};
}

}  // namespace framepipe::stages
