// crop: keeps a fixed rectangle of each frame.
//   - { name: roi, type: crop, params: { x: 100, y: 50, width: 640, height: 360 } }
#include <stdexcept>
#include <string>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Crop : public TransformStage {
 public:
  static inline const auto x = Param<int>{"x", 0, "left edge in pixels"}.range(0, 16383);
  static inline const auto y = Param<int>{"y", 0, "top edge in pixels"}.range(0, 16383);
  static inline const auto width = Param<int>{"width", 640, "width in pixels"}.range(1, 16384);
  static inline const auto height = Param<int>{"height", 360, "height in pixels"}.range(1, 16384);

  explicit Crop(const Params& params)
      : rect_(params[x], params[y], params[width], params[height]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    // The frame size is only known now, so a rectangle that does not fit is a runtime error.
    if ((rect_ & cv::Rect(0, 0, image.cols, image.rows)) != rect_) {
      throw std::runtime_error(
          "crop " + std::to_string(rect_.width) + "x" + std::to_string(rect_.height) + " at (" +
          std::to_string(rect_.x) + ", " + std::to_string(rect_.y) + ") does not fit in the " +
          std::to_string(image.cols) + "x" + std::to_string(image.rows) + " frame");
    }
    // A copy rather than a view: the full frame's memory is released as soon as it leaves.
    frame.set_image(image(rect_).clone());
    return true;
  }

 private:
  cv::Rect rect_;
};

}  // namespace

StageInfo crop_stage() {
  return stage_info<Crop>(
      {.type = "crop",
       .summary = "Keeps the rectangle x, y, width x height; a rectangle outside the frame is an "
                  "error.",
       .example = "- { name: roi, type: crop, params: { x: 100, y: 50, width: 640, height: 360 } }",
       .params = {Crop::x, Crop::y, Crop::width, Crop::height}});
}

}  // namespace framepipe::stages
