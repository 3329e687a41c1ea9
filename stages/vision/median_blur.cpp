// median_blur: replaces each pixel by the median of its ksize x ksize neighbourhood; removes
// salt-and-pepper noise and keeps edges.
//   - { name: despeckle, type: median_blur, params: { ksize: 5 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class MedianBlur : public TransformStage {
 public:
  static inline const auto ksize =
      Param<int>{"ksize", 5, "kernel side in pixels, odd"}.range(3, 255);

  explicit MedianBlur(const Params& params) : ksize_(params[ksize]) {}

  bool process(Frame& frame) override {
    cv::Mat blurred;
    cv::medianBlur(frame.image(), blurred, ksize_);
    frame.set_image(std::move(blurred));
    return true;
  }

 private:
  int ksize_;
};

}  // namespace

StageInfo median_blur_stage() {
  return stage_info<MedianBlur>(
      {.type = "median_blur",
       .summary = "Median filter (cv::medianBlur) with a square kernel.",
       .example = "- { name: despeckle, type: median_blur, params: { ksize: 5 } }",
       .params = {MedianBlur::ksize},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         require_odd(params, MedianBlur::ksize, problems);
         return problems;
       }});
}

}  // namespace framepipe::stages
