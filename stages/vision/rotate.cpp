// rotate: turns each frame clockwise by a multiple of 90 degrees (lossless; 90 and 270 swap
// width and height). Mirroring is the separate `flip` stage.
//   - { name: upright, type: rotate, params: { angle: 90 } }
#include <opencv2/core.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Rotate : public TransformStage {
 public:
  static inline const auto angle = Param<int>{"angle", 90,
                                              "clockwise degrees: 0, 90, 180 or 270 (270 = 90 "
                                              "counter-clockwise)"}
                                       .range(0, 270);

  explicit Rotate(const Params& params) : angle_(params[angle]) {}

  bool process(Frame& frame) override {
    if (angle_ == 0) return true;
    const int code = angle_ == 90    ? cv::ROTATE_90_CLOCKWISE
                     : angle_ == 180 ? cv::ROTATE_180
                                     : cv::ROTATE_90_COUNTERCLOCKWISE;
    cv::Mat rotated;
    cv::rotate(frame.image(), rotated, code);
    frame.set_image(std::move(rotated));
    return true;
  }

 private:
  std::int64_t angle_;
};

}  // namespace

StageInfo rotate_stage() {
  return stage_info<Rotate>(
      {.type = "rotate",
       .summary = "Rotates frames clockwise by 0, 90, 180 or 270 degrees (cv::rotate).",
       .example = "- { name: upright, type: rotate, params: { angle: 90 } }",
       .params = {Rotate::angle},
       .check = [](const Params& params) {
         const auto angle = params[Rotate::angle];
         return angle % 90 == 0
                    ? std::vector<std::string>{}
                    : std::vector<std::string>{"'angle' must be 0, 90, 180 or 270, got " +
                                               std::to_string(angle)};
       }});
}

}  // namespace framepipe::stages
