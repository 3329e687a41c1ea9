// resize: scales each frame to a fixed size.
//   - { name: small, type: resize, params: { width: 960, height: 540, interpolation: area } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

int interpolation_flag(const std::string& name) {
  if (name == "nearest") return cv::INTER_NEAREST;
  if (name == "cubic") return cv::INTER_CUBIC;
  if (name == "area") return cv::INTER_AREA;
  if (name == "lanczos") return cv::INTER_LANCZOS4;
  return cv::INTER_LINEAR;
}

class Resize : public TransformStage {
 public:
  explicit Resize(const Params& params)
      : size_(static_cast<int>(params.integer("width")),
              static_cast<int>(params.integer("height"))),
        interpolation_(interpolation_flag(params.string("interpolation"))) {}

  bool process(Frame& frame) override {
    cv::Mat resized;
    cv::resize(frame.image(), resized, size_, 0, 0, interpolation_);
    frame.set_image(std::move(resized));
    return true;
  }

 private:
  cv::Size size_;
  int interpolation_;
};

}  // namespace

StageInfo resize_stage() {
  return {.type = "resize",
          .kind = StageKind::transform,
          .resource = ResourceClass::cpu,
          .ordering = Ordering::parallel,
          .summary = "Scales frames to width x height (cv::resize).",
          .example = "- { name: small, type: resize, params: { width: 960, height: 540 } }",
          .params = {ParamSpec::integer("width", 640, "output width in pixels").range(1, 16384),
                     ParamSpec::integer("height", 360, "output height in pixels").range(1, 16384),
                     ParamSpec::choice("interpolation",
                                       {"nearest", "linear", "cubic", "area", "lanczos"}, "linear",
                                       "OpenCV interpolation: area is best for shrinking")},
          .create = [](const StageSetup& setup) { return std::make_unique<Resize>(setup.params); }};
}

}  // namespace framepipe::stages
