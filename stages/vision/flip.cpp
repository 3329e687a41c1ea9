// flip: mirrors each frame. Rotation by multiples of 90 degrees is the separate `rotate` stage.
#include <opencv2/core.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Flip : public TransformStage {
 public:
  // Read as cv::flip's code: 1 mirrors left-right, 0 upside down, -1 both (= rotate 180).
  static inline const auto axis = Param<int>::choice(
      "axis", {{"horizontal", 1}, {"vertical", 0}, {"both", -1}}, "horizontal",
      "horizontal mirrors left-right, vertical turns upside down, both does both");

  explicit Flip(const Params& params) : code_(params[axis]) {}

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
  return stage_info<Flip>(
      {.type = "flip",
       .summary = "Mirrors frames left-right, upside down or both (cv::flip).",
       .example = "- { name: mirror, type: flip, params: { axis: horizontal } }",
       .params = {Flip::axis}});
}

}  // namespace framepipe::stages
