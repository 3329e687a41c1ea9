// sobel: image derivative (cv::Sobel) of order dx in x and dy in y. The signed result is
// computed in 16 bits, then stored as |derivative| saturated to 8 bits (cv::convertScaleAbs),
// so rising and falling edges both show bright. Color frames keep their channels: put
// `grayscale` first for a one-channel edge image.
//   - { name: edges_x, type: sobel, params: { dx: 1, dy: 0, ksize: 3 } }
#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Sobel : public TransformStage {
 public:
  static inline const auto dx = Param<int>{"dx", 1, "order of the derivative in x"}.range(0, 3);
  static inline const auto dy = Param<int>{"dy", 0, "order of the derivative in y"}.range(0, 3);
  static inline const auto ksize = Param<int>{"ksize", 3,
                                              "kernel side: 1, 3, 5 ... 31 (1 is a 3x1 "
                                              "kernel without smoothing)"}
                                       .range(1, 31);
  static inline const auto scale =
      Param<double>{"scale", 1.0, "factor applied to the derivative"}.range(0.0001, 1000);

  explicit Sobel(const Params& params)
      : dx_(params[dx]), dy_(params[dy]), ksize_(params[ksize]), scale_(params[scale]) {}

  bool process(Frame& frame) override {
    cv::Mat derivative;
    cv::Sobel(frame.image(), derivative, CV_16S, dx_, dy_, ksize_, scale_);
    cv::Mat magnitude;
    cv::convertScaleAbs(derivative, magnitude);
    frame.set_image(std::move(magnitude));
    return true;
  }

 private:
  int dx_;
  int dy_;
  int ksize_;
  double scale_;
};

}  // namespace

StageInfo sobel_stage() {
  return stage_info<Sobel>(
      {.type = "sobel",
       .summary = "Sobel derivative (cv::Sobel), stored as |value| saturated to 8 bits "
                  "(cv::convertScaleAbs).",
       .example = "- { name: edges_x, type: sobel, params: { dx: 1, dy: 0, ksize: 3 } }",
       .params = {Sobel::dx, Sobel::dy, Sobel::ksize, Sobel::scale},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         const auto dx = params[Sobel::dx];
         const auto dy = params[Sobel::dy];
         const auto ksize = params[Sobel::ksize];
         require_odd(params, Sobel::ksize, problems);
         if (dx + dy == 0) problems.push_back("'dx' and 'dy' must not both be 0");
         // Kernels of side 1 and 3 hold derivatives up to order 2; larger ones up to
         // ksize - 1.
         const auto max_order = ksize <= 3 ? 2 : ksize - 1;
         if (std::max(dx, dy) > max_order) {
           problems.push_back("'dx' and 'dy' must be at most " + std::to_string(max_order) +
                              " with ksize " + std::to_string(ksize));
         }
         return problems;
       }});
}

}  // namespace framepipe::stages
