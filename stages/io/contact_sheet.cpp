// contact_sheet: one image that summarizes the video, a grid of thumbnails of frames sampled
// evenly over its whole length.
//   - { name: sheet, type: contact_sheet, params: { columns: 4, rows: 4, thumb_width: 320 } }
#include <cmath>
#include <cstdio>
#include <map>
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"
#include "stages/io/image_file.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

constexpr int kGap = 4;       // pixels between thumbnails and around the grid
constexpr int kPngLevel = 6;  // zlib's default: one image a run, so size matters more than time

double seconds(const Frame& frame) {
  if (frame.time_base.valid()) return frame.pts * frame.time_base.value();
  if (frame.frame_rate.valid()) return frame.index / frame.frame_rate.value();
  return 0;
}

class ContactSheet : public SinkStage {
 public:
  explicit ContactSheet(const Params& params)
      : pattern_(params.string("path")),
        columns_(static_cast<int>(params.integer("columns"))),
        cells_(columns_ * static_cast<int>(params.integer("rows"))),
        thumb_width_(static_cast<int>(params.integer("thumb_width"))),
        timestamps_(params.boolean("timestamps")),
        format_(image_file::format_of(pattern_).value()),
        setting_(format_ == image_file::Format::png
                     ? kPngLevel
                     : static_cast<int>(params.integer("jpeg_quality"))) {}

  void open(const RunContext& context) override { output_.start(context, pattern_); }

  // The frame count is not known until the end, so the stage keeps thumbnails of every
  // stride-th frame, at most twice the grid's cells: when the buffer overflows, the stride
  // doubles and every other thumbnail goes. Memory stays bounded whatever the length, and at
  // the end the kept frames are evenly spaced over the whole video. Decisions use frame
  // indices, not arrival order, so the stage needs no reordering in front of it.
  void consume(Frame& frame) override {
    if (frame.index % stride_ != 0) return;
    const cv::Mat& image = frame.image();
    if (thumb_size_.empty()) {
      thumb_size_ = {thumb_width_,
                     std::max(1, static_cast<int>(std::lround(static_cast<double>(thumb_width_) *
                                                              image.rows / image.cols)))};
    }
    cv::Mat thumb;
    cv::resize(image, thumb, thumb_size_, 0, 0, cv::INTER_AREA);
    if (thumb.channels() == 1) cv::cvtColor(thumb, thumb, cv::COLOR_GRAY2BGR);
    thumbs_[frame.index] = {std::move(thumb), seconds(frame)};
    while (static_cast<int>(thumbs_.size()) > 2 * cells_) {
      stride_ *= 2;
      std::erase_if(thumbs_, [&](const auto& entry) { return entry.first % stride_ != 0; });
    }
  }

  void finish() override {
    if (thumbs_.empty()) {
      throw std::runtime_error("no frames; contact sheet '" + output_.final_path().string() +
                               "' not written");
    }
    const cv::Mat sheet = compose();
    try {
      image_file::write(output_.temp_path(), image_file::encode(sheet, format_, setting_));
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot write '" + output_.final_path().string() + "': " + e.what());
    }
    output_.commit();
  }

  void abort() noexcept override { output_.discard(); }

  std::vector<fs::path> outputs() const override { return output_.committed(); }

 private:
  struct Thumb {
    cv::Mat image;
    double time_s = 0;
  };

  // Picks up to `cells_` of the kept thumbnails, evenly spaced and starting with the first.
  cv::Mat compose() const {
    std::vector<const Thumb*> kept;
    for (const auto& [index, thumb] : thumbs_) kept.push_back(&thumb);
    const int count = std::min<int>(cells_, static_cast<int>(kept.size()));
    const int rows = (count + columns_ - 1) / columns_;
    const int columns = std::min(columns_, count);
    cv::Mat sheet(kGap + rows * (thumb_size_.height + kGap),
                  kGap + columns * (thumb_size_.width + kGap), CV_8UC3, cv::Scalar(32, 32, 32));
    for (int i = 0; i < count; ++i) {
      const Thumb& thumb = *kept[static_cast<std::size_t>(i) * kept.size() / count];
      const cv::Point corner(kGap + (i % columns) * (thumb_size_.width + kGap),
                             kGap + (i / columns) * (thumb_size_.height + kGap));
      cv::Mat cell = sheet(cv::Rect(corner, thumb_size_));
      thumb.image.copyTo(cell);
      if (timestamps_) stamp(cell, thumb.time_s);
    }
    return sheet;
  }

  // "1:02.50" in the thumbnail's lower left, white on a dark outline to read on any picture.
  static void stamp(cv::Mat& cell, double time_s) {
    char text[32];
    const int minutes = static_cast<int>(time_s / 60);
    std::snprintf(text, sizeof text, "%d:%05.2f", minutes, time_s - 60.0 * minutes);
    const double scale = std::max(0.35, cell.cols / 400.0);
    const cv::Point at(4, cell.rows - 6);
    cv::putText(cell, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, {0, 0, 0}, 3, cv::LINE_AA);
    cv::putText(cell, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, {255, 255, 255}, 1, cv::LINE_AA);
  }

  std::string pattern_;
  int columns_;
  int cells_;
  int thumb_width_;
  bool timestamps_;
  image_file::Format format_;
  int setting_;  // the PNG level or the JPEG quality
  output_file::PendingOutput output_;
  cv::Size thumb_size_;
  std::int64_t stride_ = 1;
  std::map<std::int64_t, Thumb> thumbs_;  // by frame index
};

}  // namespace

StageInfo contact_sheet_stage() {
  return {
      .type = "contact_sheet",
      .kind = StageKind::sink,
      .resource = ResourceClass::cpu,
      .ordering = Ordering::serial_out_of_order,
      .summary =
          "One image summarizing the video: a grid of thumbnails of frames sampled evenly over "
          "its length (bounded memory), written when the run completes.",
      .example = "- { name: sheet, type: contact_sheet, params: { columns: 4, rows: 4 } }",
      .params = {ParamSpec::string(
                     "path", "{stem}-sheet.jpg",
                     "image file under output.dir; {stem} is the input's name without "
                     "extension; .jpg or .png"),
                 ParamSpec::integer("columns", 4, "thumbnails per row").range(1, 64),
                 ParamSpec::integer("rows", 4,
                                    "rows of thumbnails (fewer when the video has fewer frames)")
                     .range(1, 64),
                 ParamSpec::integer("thumb_width", 320,
                                    "thumbnail width in pixels; height keeps the "
                                    "frame's aspect ratio")
                     .range(16, 4096),
                 ParamSpec::boolean("timestamps", true, "print each thumbnail's time (m:ss.ss)"),
                 ParamSpec::integer("jpeg_quality", 90, "JPEG quality, when the path is .jpg")
                     .range(0, 100)},
      .create =
          [](const StageSetup& setup) { return std::make_unique<ContactSheet>(setup.params); },
      .check =
          [](const Params& params) {
            std::vector<std::string> problems;
            if (!image_file::format_of(params.string("path"))) {
              problems.push_back("'path' must end in .png, .jpg or .jpeg, got '" +
                                 params.string("path") + "'");
            }
            return problems;
          },
      .output_names = output_file::named_by_path};
}

}  // namespace framepipe::stages
