// gaussian_blur: smooths frames with a Gaussian kernel.
//   - { name: blur, type: gaussian_blur, params: { ksize: 5, sigma: 2 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class GaussianBlur : public TransformStage {
 public:
  static inline const auto ksize =
      Param<int>{"ksize", 5, "kernel side in pixels, odd; 0 derives it from sigma"}.range(0, 99);
  static inline const auto sigma =
      Param<double>{"sigma", 2.0, "standard deviation in pixels (x and y)"}.range(0.01, 100);

  explicit GaussianBlur(const Params& params) : ksize_(params[ksize]), sigma_(params[sigma]) {}

  bool process(Frame& frame) override {
    cv::Mat blurred;
    // BORDER_ISOLATED: the frame's picture ends at its edges. Decoded pictures are views into
    // padded buffers, and without it the blur would read the padding (uninitialised) as the
    // pixels past the edge instead of reflecting the picture.
    cv::GaussianBlur(frame.image(), blurred, cv::Size(ksize_, ksize_), sigma_, sigma_,
                     cv::BORDER_DEFAULT | cv::BORDER_ISOLATED);
    frame.set_image(std::move(blurred));
    return true;
  }

 private:
  int ksize_;
  double sigma_;
};

}  // namespace

StageInfo gaussian_blur_stage() {
  return stage_info<GaussianBlur>(
      {.type = "gaussian_blur",
       .summary = "Gaussian smoothing (cv::GaussianBlur) with a square kernel, reflecting the "
                  "picture at its edges. A channel-wise linear filter: a per-pixel map to gray "
                  "that reads it runs first ([graph rewrites](config.md#graph-rewrites)).",
       .example = "- { name: blur, type: gaussian_blur, params: { ksize: 5, sigma: 2 } }",
       .params = {GaussianBlur::ksize, GaussianBlur::sigma},
       .check =
           [](const Params& params) {
             const auto ksize = params[GaussianBlur::ksize];
             return ksize % 2 == 1 || ksize == 0
                        ? std::vector<std::string>{}
                        : std::vector<std::string>{"'ksize' must be odd or 0, got " +
                                                   std::to_string(ksize)};
           },
       // A Gaussian's weights are positive and each channel is blurred alike: a gray map may
       // run first (pipeline/rewrite.h).
       .pixel_properties =
           [](const Params&) { return PixelProperties{.channelwise_linear_filter = true}; }});
}

}  // namespace framepipe::stages
