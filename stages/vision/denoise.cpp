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
  explicit Denoise(const Params& params)
      : h_(static_cast<float>(params.number("h"))),
        h_color_(static_cast<float>(params.number("h_color"))),
        template_window_(static_cast<int>(params.integer("template_window"))),
        search_window_(static_cast<int>(params.integer("search_window"))) {}

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
  for (const char* name : {"template_window", "search_window"}) require_odd(params, name, problems);
  return problems;
}

}  // namespace

StageInfo denoise_stage() {
  return {.type = "denoise",
          .kind = StageKind::transform,
          .resource = ResourceClass::cpu,
          .ordering = Ordering::parallel,
          .summary =
              "Non-local means denoising (cv::fastNlMeansDenoisingColored); heavy: give it "
              "concurrency.",
          .example =
              "- { name: clean, type: denoise, concurrency: unlimited, params: { h: 5, "
              "h_color: 5 } }",
          .params = {ParamSpec::number("h", 3,
                                       "filter strength for luma (gray: the only one); higher "
                                       "removes more noise and more detail")
                         .range(0, 100),
                     ParamSpec::number("h_color", 3, "filter strength for the color components")
                         .range(0, 100),
                     ParamSpec::integer("template_window", 7,
                                        "side of the patch compared between pixels, odd")
                         .range(3, 35),
                     ParamSpec::integer("search_window", 21,
                                        "side of the area searched for similar patches, odd; time "
                                        "grows with its square")
                         .range(3, 101)},
          .create = [](const StageSetup& setup) { return std::make_unique<Denoise>(setup.params); },
          .check = odd_windows};
}

}  // namespace framepipe::stages
