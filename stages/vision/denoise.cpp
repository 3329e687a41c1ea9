// denoise: non-local means denoising (cv::fastNlMeansDenoisingColored, or
// cv::fastNlMeansDenoising for gray frames): each pixel becomes an average of pixels whose
// surroundings look alike, anywhere in its search window. Removes noise while keeping texture,
// and is deliberately heavy (tens of milliseconds per small frame): the stage to give more
// concurrency, and the one a report will name as the bottleneck.
//   - { name: clean, type: denoise, concurrency: unlimited, params: { h: 5, h_color: 5 } }
#include <opencv2/photo.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Denoise : public TransformStage {
 public:
  static inline const auto h =
      Param<double>{"h", 3,
                    "filter strength for luma (gray: the only one); higher "
                    "removes more noise and more detail"}
          .range(0, 100);
  static inline const auto h_color =
      Param<double>{"h_color", 3, "filter strength for the color components"}.range(0, 100);
  static inline const auto template_window =
      Param<int>{"template_window", 7, "side of the patch compared between pixels, odd"}.range(3,
                                                                                               35);
  static inline const auto search_window =
      Param<int>{"search_window", 21,
                 "side of the area searched for similar patches, odd; time "
                 "grows with its square"}
          .range(3, 101);

  explicit Denoise(const Params& params)
      : h_(static_cast<float>(params[h])),
        h_color_(static_cast<float>(params[h_color])),
        template_window_(params[template_window]),
        search_window_(params[search_window]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    cv::Mat denoised;
    if (image.channels() == 1) {
      cv::fastNlMeansDenoising(image, denoised, h_, template_window_, search_window_);
    } else {
      cv::fastNlMeansDenoisingColored(image, denoised, h_, h_color_, template_window_,
                                      search_window_);
    }
    frame.set_image(std::move(denoised));
    return true;
  }

 private:
  float h_;
  float h_color_;
  int template_window_;
  int search_window_;
};

std::vector<std::string> odd_windows(const Params& params) {
  std::vector<std::string> problems;
  for (const auto* window : {&Denoise::template_window, &Denoise::search_window}) {
    require_odd(params, *window, problems);
  }
  return problems;
}

}  // namespace

StageInfo denoise_stage() {
  return stage_info<Denoise>(
      {.type = "denoise",
       .summary = "Non-local means denoising (cv::fastNlMeansDenoisingColored); heavy: give it "
                  "concurrency.",
       .example = "- { name: clean, type: denoise, concurrency: unlimited, params: { h: 5, "
                  "h_color: 5 } }",
       .params = {Denoise::h, Denoise::h_color, Denoise::template_window, Denoise::search_window},
       .check = odd_windows});
}

}  // namespace framepipe::stages
