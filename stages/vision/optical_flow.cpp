// optical_flow: dense optical flow between consecutive frames (cv::calcOpticalFlowFarneback
// on gray frames). The output is the usual color picture of the flow: hue is the direction
// (red = rightwards, then through yellow, green (downwards), blue), brightness the speed,
// scaled so the fastest pixel of each frame is brightest. scalars["flow_mean"] is the mean
// speed in pixels per frame. The first frame, with nothing before it, has zero flow (black).
//   - { name: flow, type: optical_flow, params: { levels: 3, winsize: 15 } }
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include "pipeline/stage.h"
#include "stages/vision/gray.h"

namespace framepipe::stages {

namespace {

class OpticalFlow : public TransformStage {
 public:
  static inline const auto pyr_scale =
      Param<double>{"pyr_scale", 0.5, "each pyramid level's size relative to the one below"}.range(
          0.1, 0.9);
  static inline const auto levels =
      Param<int>{"levels", 3, "pyramid levels; more follow faster motion (1: no pyramid)"}.range(
          1, 10);
  static inline const auto winsize =
      Param<int>{"winsize", 15,
                 "averaging window in pixels; larger is smoother and copes "
                 "with noise"}
          .range(3, 101);
  static inline const auto iterations =
      Param<int>{"iterations", 3, "iterations at each pyramid level"}.range(1, 50);
  static inline const auto poly_n =
      Param<int>{"poly_n", 5, "neighbourhood of the per-pixel polynomial fit: 5 or 7"}.range(5, 7);
  static inline const auto poly_sigma =
      Param<double>{"poly_sigma", 1.2, "smoothing of that fit: about 1.1 for poly_n 5, 1.5 for 7"}
          .range(0.5, 3);

  explicit OpticalFlow(const Params& params)
      : pyr_scale_(params[pyr_scale]),
        levels_(params[levels]),
        winsize_(params[winsize]),
        iterations_(params[iterations]),
        poly_n_(params[poly_n]),
        poly_sigma_(params[poly_sigma]) {}

  bool process(Frame& frame) override {
    // Kept for the next frame; nobody writes into frame pixels, so sharing them is safe.
    cv::Mat gray = gray_of(frame);
    cv::Mat flow(gray.size(), CV_32FC2, cv::Scalar::all(0));
    if (previous_.size() == gray.size()) {
      cv::calcOpticalFlowFarneback(previous_, gray, flow, pyr_scale_, levels_, winsize_,
                                   iterations_, poly_n_, poly_sigma_, 0);
    }
    previous_ = std::move(gray);

    cv::Mat components[2];
    cv::split(flow, components);
    cv::Mat speed;
    cv::Mat direction;
    cv::cartToPolar(components[0], components[1], speed, direction, /*angleInDegrees=*/true);
    frame.scalars["flow_mean"] = cv::mean(speed)[0];

    // 8-bit HSV keeps hue in [0, 180): half the angle in degrees.
    cv::Mat hue;
    direction.convertTo(hue, CV_8U, 0.5);
    cv::Mat value;
    cv::normalize(speed, value, 0, 255, cv::NORM_MINMAX, CV_8U);
    const cv::Mat saturation(flow.size(), CV_8U, cv::Scalar(255));
    cv::Mat hsv;
    cv::merge(std::vector<cv::Mat>{hue, saturation, value}, hsv);
    cv::Mat picture;
    cv::cvtColor(hsv, picture, cv::COLOR_HSV2BGR);
    frame.set_image(std::move(picture));
    return true;
  }

 private:
  double pyr_scale_;
  int levels_;
  int winsize_;
  int iterations_;
  int poly_n_;
  double poly_sigma_;
  cv::Mat previous_;
};

}  // namespace

StageInfo optical_flow_stage() {
  return stage_info<OpticalFlow>(
      {.type = "optical_flow",
       .ordering = Ordering::serial_in_order,
       .summary = "Farneback dense optical flow, drawn as hue = direction, brightness = speed; "
                  "scalars[\"flow_mean\"].",
       .example = "- { name: flow, type: optical_flow, params: { levels: 3, winsize: 15 } }",
       .params = {OpticalFlow::pyr_scale, OpticalFlow::levels, OpticalFlow::winsize,
                  OpticalFlow::iterations, OpticalFlow::poly_n, OpticalFlow::poly_sigma},
       .check = [](const Params& params) {
         const auto poly_n = params[OpticalFlow::poly_n];
         return poly_n != 6 ? std::vector<std::string>{}
                            : std::vector<std::string>{"'poly_n' must be 5 or 7, got 6"};
       }});
}

}  // namespace framepipe::stages
