// morphology: erosion, dilation and their combinations (cv::morphologyEx) with a rect,
// ellipse or cross structuring element. open removes small bright specks, close fills small
// dark holes, gradient outlines shapes, tophat keeps small bright details, blackhat small
// dark ones.
//   - { name: clean, type: morphology, params: { op: open, shape: ellipse, ksize: 5 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

int operation(const std::string& op) {
  if (op == "erode") return cv::MORPH_ERODE;
  if (op == "dilate") return cv::MORPH_DILATE;
  if (op == "open") return cv::MORPH_OPEN;
  if (op == "close") return cv::MORPH_CLOSE;
  if (op == "gradient") return cv::MORPH_GRADIENT;
  if (op == "tophat") return cv::MORPH_TOPHAT;
  return cv::MORPH_BLACKHAT;
}

int element_shape(const std::string& shape) {
  if (shape == "ellipse") return cv::MORPH_ELLIPSE;
  if (shape == "cross") return cv::MORPH_CROSS;
  return cv::MORPH_RECT;
}

class Morphology : public TransformStage {
 public:
  static inline const auto op = Param<std::string>::choice(
      "op", {"erode", "dilate", "open", "close", "gradient", "tophat", "blackhat"}, "open",
      "the operation");
  static inline const auto shape = Param<std::string>::choice(
      "shape", {"rect", "ellipse", "cross"}, "rect", "shape of the structuring element");
  static inline const auto ksize = Param<int>{"ksize", 3,
                                              "side of the structuring element in pixels, "
                                              "odd so it has a centre"}
                                       .range(1, 99);
  static inline const auto iterations =
      Param<int>{"iterations", 1, "times erosion and dilation are applied"}.range(1, 100);

  explicit Morphology(const Params& params)
      : operation_(operation(params[op])),
        // Built once and only read afterwards, so frames on many threads may share it.
        kernel_(cv::getStructuringElement(element_shape(params[shape]),
                                          cv::Size(params[ksize], params[ksize]))),
        iterations_(params[iterations]) {}

  bool process(Frame& frame) override {
    cv::Mat result;
    cv::morphologyEx(frame.image(), result, operation_, kernel_, cv::Point(-1, -1), iterations_);
    frame.set_image(std::move(result));
    return true;
  }

 private:
  int operation_;
  cv::Mat kernel_;
  int iterations_;
};

}  // namespace

StageInfo morphology_stage() {
  return stage_info<Morphology>(
      {.type = "morphology",
       .summary = "Morphological operation (cv::morphologyEx): erode, dilate, open, close, "
                  "gradient, tophat, blackhat.",
       .example = "- { name: clean, type: morphology, params: { op: open, shape: ellipse, "
                  "ksize: 5 } }",
       .params = {Morphology::op, Morphology::shape, Morphology::ksize, Morphology::iterations},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         require_odd(params, Morphology::ksize, problems);
         return problems;
       }});
}

}  // namespace framepipe::stages
