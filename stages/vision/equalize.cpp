// equalize: histogram equalization, to stretch the contrast of dull frames. Gray frames are
// equalized directly; BGR frames only in their luma: the frame goes to YCrCb, Y is equalized,
// and it comes back to BGR, so colors keep their hue. global equalizes the whole histogram
// (cv::equalizeHist); clahe equalizes tile by tile with a clip limit on contrast
// (cv::CLAHE), which brings out local detail without blowing up noise.
//   - { name: contrast, type: equalize, params: { method: clahe, clip_limit: 2.0, tile: 8 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Equalize : public TransformStage {
 public:
  static inline const auto method =
      Param<std::string>::choice("method", {"global", "clahe"}, "clahe",
                                 "global: one histogram per frame; clahe: per tile, with "
                                 "limited contrast");
  static inline const auto clip_limit =
      Param<double>{"clip_limit", 2.0, "clahe: contrast limit per tile (higher is stronger)"}.range(
          0.1, 100);
  static inline const auto tile =
      Param<int>{"tile", 8, "clahe: tiles across and down the frame"}.range(1, 64);

  explicit Equalize(const Params& params)
      : clahe_(params[method] == "clahe"), clip_limit_(params[clip_limit]), tile_(params[tile]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    if (image.channels() == 1) {
      frame.set_image(equalized(image));
      return true;
    }
    cv::Mat ycrcb;
    cv::cvtColor(image, ycrcb, cv::COLOR_BGR2YCrCb);
    std::vector<cv::Mat> planes;
    cv::split(ycrcb, planes);
    planes[0] = equalized(planes[0]);
    cv::merge(planes, ycrcb);
    cv::Mat result;
    cv::cvtColor(ycrcb, result, cv::COLOR_YCrCb2BGR);
    frame.set_image(std::move(result));
    return true;
  }

 private:
  cv::Mat equalized(const cv::Mat& gray) const {
    cv::Mat result;
    if (clahe_) {
      // A CLAHE object keeps scratch buffers, so each call makes its own: this stage runs on
      // many frames at once.
      cv::createCLAHE(clip_limit_, cv::Size(tile_, tile_))->apply(gray, result);
    } else {
      cv::equalizeHist(gray, result);
    }
    return result;
  }

  bool clahe_;
  double clip_limit_;
  int tile_;
};

}  // namespace

StageInfo equalize_stage() {
  return stage_info<Equalize>(
      {.type = "equalize",
       .summary = "Histogram equalization (global or CLAHE); on BGR frames, of the luma "
                  "(Y of YCrCb) only.",
       .example = "- { name: contrast, type: equalize, params: { method: clahe, clip_limit: "
                  "2.0, tile: 8 } }",
       .params = {Equalize::method, Equalize::clip_limit, Equalize::tile}});
}

}  // namespace framepipe::stages
