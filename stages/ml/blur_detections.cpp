// blur_detections: hides what detectors found (faces, plates) by blurring or pixelating each
// box, on a copy of the frame.
//   - { name: anonymize, type: blur_detections, params: { method: pixelate, blocks: 8 } }
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class BlurDetections : public TransformStage {
 public:
  static inline const auto method = Param<std::string>::choice(
      "method", {"gaussian", "pixelate"}, "gaussian", "gaussian blur, or mosaic of flat cells");
  static inline const auto strength =
      Param<double>{"strength", 0.25, "gaussian: sigma as a fraction of the box's shorter side"}
          .range(0.01, 2);
  static inline const auto blocks =
      Param<int>{"blocks", 8, "pixelate: cells across the box's longer side"}.range(1, 256);
  static inline const auto grow =
      Param<double>{"grow", 0.2,
                    "enlarge each box by this fraction of its size before hiding "
                    "it (face boxes are tight)"}
          .range(0, 4);
  static inline const Param<std::string> from{
      "from", "", "hide only the detections of this stage; empty = all"};

  explicit BlurDetections(const Params& params)
      : pixelate_(params[method] == "pixelate"),
        strength_(params[strength]),
        blocks_(params[blocks]),
        grow_(params[grow]),
        from_(params[from]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    cv::Mat out;  // a copy: branches may share the input's pixels
    const cv::Rect bounds(0, 0, image.cols, image.rows);
    for (const auto& detection : frame.detections) {
      if (!from_.empty() && detection.stage != from_) continue;
      const cv::Rect box = grown(detection.box) & bounds;
      if (box.empty()) continue;
      if (out.empty()) out = image.clone();
      cv::Mat region = out(box);
      if (pixelate_) {
        pixelate(region);
      } else {
        blur(region);
      }
    }
    if (!out.empty()) frame.set_image(std::move(out));
    return true;
  }

 private:
  cv::Rect grown(const cv::Rect& box) const {
    const int dx = static_cast<int>(std::lround(box.width * grow_ / 2));
    const int dy = static_cast<int>(std::lround(box.height * grow_ / 2));
    return {box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy};
  }

  // Sigma scales with the box so a large face is as unrecognisable as a small one. The kernel
  // sees only the box (BORDER_ISOLATED): pixels outside it neither change nor leak in.
  void blur(cv::Mat& region) const {
    const double sigma = std::max(0.5, strength_ * std::min(region.cols, region.rows));
    cv::Mat blurred;
    cv::GaussianBlur(region, blurred, {0, 0}, sigma, sigma,
                     cv::BORDER_REFLECT_101 | cv::BORDER_ISOLATED);
    blurred.copyTo(region);
  }

  // `blocks` cells across the box's longer side, each filled with its mean colour.
  void pixelate(cv::Mat& region) const {
    const int longer = std::max(region.cols, region.rows);
    const cv::Size cells(std::max(1, region.cols * blocks_ / longer),
                         std::max(1, region.rows * blocks_ / longer));
    cv::Mat small;
    cv::resize(region, small, cells, 0, 0, cv::INTER_AREA);
    cv::resize(small, region, region.size(), 0, 0, cv::INTER_NEAREST);
  }

  bool pixelate_;
  double strength_;
  int blocks_;
  double grow_;
  std::string from_;
};

}  // namespace

StageInfo blur_detections_stage() {
  return stage_info<BlurDetections>(
      {.type = "blur_detections",
       .summary = "Blurs or pixelates each detection's box (clamped to the frame) on a copy of the "
                  "frame: anonymizes faces and the like.",
       .example = "- { name: anonymize, type: blur_detections, params: { method: pixelate } }",
       .params = {BlurDetections::method, BlurDetections::strength, BlurDetections::blocks,
                  BlurDetections::grow, BlurDetections::from}});
}

}  // namespace framepipe::stages
