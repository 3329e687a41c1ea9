// draw_detections: draws each detection's box, label and score onto a copy of the frame.
//   - { name: boxes, type: draw_detections, params: { color: "#00ff00", thickness: 2 } }
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

// "#rrggbb" -> BGR; nullopt when malformed.
std::optional<cv::Scalar> parse_hex_color(const std::string& text) {
  if (text.size() != 7 || text[0] != '#' ||
      !std::all_of(text.begin() + 1, text.end(),
                   [](unsigned char c) { return std::isxdigit(c); })) {
    return std::nullopt;
  }
  const auto channel = [&](int at) { return std::stoi(text.substr(at, 2), nullptr, 16); };
  return cv::Scalar(channel(5), channel(3), channel(1));
}

class DrawDetections : public TransformStage {
 public:
  static inline const Param<std::string> color{"color", "#00ff00",
                                               "box and label colour, as #rrggbb"};
  static inline const auto thickness =
      Param<int>{"thickness", 2, "box line width in pixels"}.range(1, 50);
  static inline const Param<bool> labels{"labels", true, "write 'label score' above each box"};
  static inline const auto font_scale =
      Param<double>{"font_scale", 0.5, "label text size (OpenCV font scale)"}.range(0.1, 10);
  static inline const Param<std::string> from{
      "from", "", "draw only the detections of this stage; empty = all"};

  explicit DrawDetections(const Params& params)
      : color_(*parse_hex_color(params[color])),
        thickness_(params[thickness]),
        labels_(params[labels]),
        font_scale_(params[font_scale]),
        from_(params[from]) {}

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    // A new image: branches may share the input's pixels. Gray frames become BGR so the
    // boxes keep their colour.
    cv::Mat canvas;
    if (image.channels() == 1) {
      cv::cvtColor(image, canvas, cv::COLOR_GRAY2BGR);
    } else {
      canvas = image.clone();
    }
    for (const auto& detection : frame.detections) {
      if (!from_.empty() && detection.stage != from_) continue;
      cv::rectangle(canvas, detection.box, color_, thickness_);
      if (labels_) draw_label(canvas, detection);
    }
    frame.set_image(std::move(canvas));
    return true;
  }

 private:
  // "person 1.23" on a filled tab above the box (inside it when the box touches the top).
  void draw_label(cv::Mat& canvas, const Detection& detection) const {
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", detection.score);
    const std::string text = detection.label + " " + score;
    int baseline = 0;
    const cv::Size size =
        cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font_scale_, 1, &baseline);
    const int tab_h = size.height + baseline + 2;
    const int top = detection.box.y >= tab_h ? detection.box.y - tab_h : detection.box.y;
    const cv::Rect tab(detection.box.x, top, size.width + 4, tab_h);
    cv::rectangle(canvas, tab, color_, cv::FILLED);
    // Black or white text, whichever reads better on the tab's colour.
    const double luma = 0.114 * color_[0] + 0.587 * color_[1] + 0.299 * color_[2];
    const cv::Scalar ink = luma > 128 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
    cv::putText(canvas, text, {tab.x + 2, tab.y + size.height + 1}, cv::FONT_HERSHEY_SIMPLEX,
                font_scale_, ink, 1, cv::LINE_AA);
  }

  cv::Scalar color_;
  int thickness_;
  bool labels_;
  double font_scale_;
  std::string from_;
};

}  // namespace

StageInfo draw_detections_stage() {
  return stage_info<DrawDetections>(
      {.type = "draw_detections",
       .summary =
           "Draws the frame's detections (boxes, labels, scores) onto a copy of the frame; gray "
           "frames become BGR.",
       .example = "- { name: boxes, type: draw_detections, params: { color: \"#ff0000\" } }",
       .params = {DrawDetections::color, DrawDetections::thickness, DrawDetections::labels,
                  DrawDetections::font_scale, DrawDetections::from},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         if (!parse_hex_color(params[DrawDetections::color])) {
           problems.push_back("'color' must be #rrggbb (e.g. #00ff00), got '" +
                              params[DrawDetections::color] + "'");
         }
         return problems;
       }});
}

}  // namespace framepipe::stages
