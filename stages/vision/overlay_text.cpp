// overlay_text: writes a line of text on each frame (cv::putText), e.g. a timestamp. The
// text is a template: {frame} is the frame index, {pts} its presentation timestamp, {time} the
// timestamp in seconds (pts x time base, 3 decimals), {source} the input's file name. The line
// is placed in a corner, `margin` pixels from the edges. Colors are names or "#rrggbb" (quote
// it: YAML reads a bare # as a comment); on gray frames the color's gray level is used.
//   - { name: ts, type: overlay_text, params: { text: "{source} {time}", position: bottom_left } }
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

enum class Field { literal, frame, pts, time, source };

struct Piece {
  Field field = Field::literal;
  std::string text;  // for literals
};

// Splits the template into literals and fields; `error` says what is wrong when it returns
// nullopt.
std::optional<std::vector<Piece>> parse_template(const std::string& text, std::string& error) {
  static const std::map<std::string, Field> fields = {{"frame", Field::frame},
                                                      {"pts", Field::pts},
                                                      {"time", Field::time},
                                                      {"source", Field::source}};
  std::vector<Piece> pieces;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto open = text.find('{', at);
    if (open == std::string::npos) {
      pieces.push_back({Field::literal, text.substr(at)});
      break;
    }
    if (open > at) pieces.push_back({Field::literal, text.substr(at, open - at)});
    const auto close = text.find('}', open);
    if (close == std::string::npos) {
      error = "'text' has a '{' without a closing '}'";
      return std::nullopt;
    }
    const auto name = text.substr(open + 1, close - open - 1);
    const auto field = fields.find(name);
    if (field == fields.end()) {
      error = "'text' has an unknown field '{" + name + "}'; fields: {frame}, {pts}, {time}, " +
              "{source}";
      return std::nullopt;
    }
    pieces.push_back({field->second, {}});
    at = close + 1;
  }
  return pieces;
}

// A color name or "#rrggbb" / "rrggbb", as BGR.
std::optional<cv::Scalar> parse_color(const std::string& text) {
  static const std::map<std::string, cv::Scalar> names = {
      {"white", {255, 255, 255}}, {"black", {0, 0, 0}},      {"red", {0, 0, 255}},
      {"green", {0, 255, 0}},     {"blue", {255, 0, 0}},     {"yellow", {0, 255, 255}},
      {"cyan", {255, 255, 0}},    {"magenta", {255, 0, 255}}};
  if (const auto named = names.find(text); named != names.end()) return named->second;
  const std::string hex = text.starts_with('#') ? text.substr(1) : text;
  unsigned rgb = 0;
  const auto [end, error] = std::from_chars(hex.data(), hex.data() + hex.size(), rgb, 16);
  if (hex.size() != 6 || error != std::errc() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return cv::Scalar(rgb & 0xff, (rgb >> 8) & 0xff, (rgb >> 16) & 0xff);
}

class OverlayText : public TransformStage {
 public:
  static inline const Param<std::string> text{
      "text", "{frame} {time}s",
      "template; {frame} index, {pts} timestamp, {time} seconds, "
      "{source} file name"};
  static inline const auto position = Param<std::string>::choice(
      "position", {"top_left", "top_right", "bottom_left", "bottom_right"}, "top_left",
      "the corner the text sits in");
  static inline const auto margin =
      Param<int>{"margin", 10, "distance from the frame's edges in pixels"}.range(0, 4096);
  static inline const auto font_scale =
      Param<double>{"font_scale", 1.0, "text size; 1 is about 22 pixels high"}.range(0.1, 20);
  static inline const Param<std::string> color{
      "color", "white",
      "white, black, red, green, blue, yellow, cyan, magenta or "
      "\"#rrggbb\""};
  static inline const auto thickness =
      Param<int>{"thickness", 2, "stroke width in pixels"}.range(1, 50);

  explicit OverlayText(const Params& params)
      : position_(params[position]),
        margin_(params[margin]),
        font_scale_(params[font_scale]),
        thickness_(params[thickness]) {
    std::string error;
    pieces_ = *parse_template(params[text], error);  // check() accepted it
    color_ = *parse_color(params[color]);
    const double luma = 0.114 * color_[0] + 0.587 * color_[1] + 0.299 * color_[2];
    gray_ = cv::Scalar::all(luma);
  }

  bool process(Frame& frame) override {
    const std::string text = expand(frame);
    cv::Mat image = frame.image().clone();
    int baseline = 0;
    const auto size = cv::getTextSize(text, kFont, font_scale_, thickness_, &baseline);
    // putText's origin is the left end of the baseline.
    const int x = position_.ends_with("left") ? margin_ : image.cols - margin_ - size.width;
    const int y =
        position_.starts_with("top") ? margin_ + size.height : image.rows - margin_ - baseline;
    cv::putText(image, text, {x, y}, kFont, font_scale_, image.channels() == 1 ? gray_ : color_,
                thickness_, cv::LINE_AA);
    frame.set_image(std::move(image));
    return true;
  }

 private:
  static constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

  std::string expand(const Frame& frame) const {
    std::string text;
    for (const auto& piece : pieces_) {
      switch (piece.field) {
        case Field::literal:
          text += piece.text;
          break;
        case Field::frame:
          text += std::to_string(frame.index);
          break;
        case Field::pts:
          text += std::to_string(frame.pts);
          break;
        case Field::time: {
          char seconds[32];
          std::snprintf(seconds, sizeof seconds, "%.3f",
                        static_cast<double>(frame.pts) * frame.time_base.value());
          text += seconds;
          break;
        }
        case Field::source:
          text += std::filesystem::path(frame.source).filename().string();
          break;
      }
    }
    return text;
  }

  std::vector<Piece> pieces_;
  std::string position_;
  int margin_;
  double font_scale_;
  int thickness_;
  cv::Scalar color_;
  cv::Scalar gray_;
};

}  // namespace

StageInfo overlay_text_stage() {
  return stage_info<OverlayText>(
      {.type = "overlay_text",
       .summary = "Writes a text template ({frame}, {pts}, {time}, {source}) in a corner of "
                  "each frame (cv::putText).",
       .example =
           "- { name: ts, type: overlay_text, params: { text: \"{source} {time}\", position: "
           "bottom_left } }",
       .params = {OverlayText::text, OverlayText::position, OverlayText::margin,
                  OverlayText::font_scale, OverlayText::color, OverlayText::thickness},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         std::string error;
         if (!parse_template(params[OverlayText::text], error)) problems.push_back(error);
         if (!parse_color(params[OverlayText::color])) {
           problems.push_back("'color' must be a color name or \"#rrggbb\", got '" +
                              params[OverlayText::color] + "'");
         }
         return problems;
       }});
}

}  // namespace framepipe::stages
