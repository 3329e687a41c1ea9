// contact_sheet: one image that summarizes the video, a grid of thumbnails of frames sampled
// evenly over its whole length.
//   - { name: sheet, type: contact_sheet, params: { columns: 4, rows: 4, thumb_width: 320 } }
#include <cmath>
#include <cstdio>
#include <map>
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"
#include "stages/io/detection_records.h"
#include "stages/io/image_file.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

constexpr int kGap = 4;       // pixels between thumbnails and around the grid
constexpr int kPngLevel = 6;  // zlib's default: one image a run, so size matters more than time
// The largest sheet the parameters may ask for (the grid of thumb_width x max_thumb_height
// cells): ~300 MB as BGR, and the stage keeps up to twice the grid's thumbnails.
constexpr std::int64_t kMaxSheetPixels = 100'000'000;

std::int64_t sheet_side(std::int64_t cells, std::int64_t cell) {
  return kGap + cells * (cell + kGap);
}

class ContactSheet : public SinkStage {
 public:
  static inline const Param<std::string> path{
      "path", "{stem}-sheet.jpg",
      "image file under output.dir; {stem} is the input's name without "
      "extension; .jpg or .png"};
  static inline const auto columns = Param<int>{"columns", 4, "thumbnails per row"}.range(1, 64);
  static inline const auto rows =
      Param<int>{"rows", 4, "rows of thumbnails (fewer when the video has fewer frames)"}.range(1,
                                                                                                64);
  static inline const auto thumb_width = Param<int>{"thumb_width", 320,
                                                    "thumbnail width in pixels; height keeps the "
                                                    "frame's aspect ratio"}
                                             .range(16, 4096);
  static inline const auto max_thumb_height =
      Param<int>{"max_thumb_height", 960,
                 "tallest thumbnail in pixels: a frame taller than thumb_width's share gives a "
                 "narrower thumbnail"}
          .range(16, 4096);
  static inline const Param<bool> timestamps{"timestamps", true,
                                             "print each thumbnail's time (m:ss.ss)"};
  static inline const auto jpeg_quality =
      Param<int>{"jpeg_quality", 90, "JPEG quality, when the path is .jpg"}.range(0, 100);

  explicit ContactSheet(const Params& params)
      : pattern_(params[path]),
        columns_(params[columns]),
        cells_(columns_ * params[rows]),
        thumb_width_(params[thumb_width]),
        max_thumb_height_(params[max_thumb_height]),
        timestamps_(params[timestamps]),
        format_(image_file::format_of(pattern_).value()),
        setting_(format_ == image_file::Format::png ? kPngLevel : params[jpeg_quality]) {}

  void open(const RunContext& context) override { output_.start(context, pattern_); }

  // The frame count is not known until the end, so the stage keeps thumbnails of every
  // stride-th frame, at most twice the grid's cells: when the buffer overflows, the stride
  // doubles and every other thumbnail goes. Memory stays bounded whatever the length, and at
  // the end the kept frames are evenly spaced over the whole video. Decisions use frame
  // indices, not arrival order, so the stage needs no reordering in front of it.
  void consume(Frame& frame) override {
    if (frame.index % stride_ != 0) return;
    const cv::Mat& image = frame.image();
    if (thumb_size_.empty()) thumb_size_ = thumb_size_for(image.size());
    cv::Mat thumb;
    cv::resize(image, thumb, thumb_size_, 0, 0, cv::INTER_AREA);
    if (thumb.channels() == 1) cv::cvtColor(thumb, thumb, cv::COLOR_GRAY2BGR);
    thumbs_[frame.index] = {std::move(thumb), detection_records::seconds(frame)};
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
    std::vector<unsigned char> bytes;
    try {
      bytes = image_file::encode(sheet, format_, setting_);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot write '" + output_.final_path().string() + "': " + e.what());
    }
    output_.write({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    output_.commit();
  }

  void abort() noexcept override { output_.discard(); }

  std::vector<fs::path> outputs() const override { return output_.committed(); }

 private:
  struct Thumb {
    cv::Mat image;
    double time_s = 0;
  };

  // thumb_width wide with the frame's aspect ratio, unless that is taller than
  // max_thumb_height (a 2x2000 video would give 320x320000): then that tall, and narrower.
  cv::Size thumb_size_for(cv::Size frame) const {
    const double aspect = static_cast<double>(frame.height) / frame.width;
    if (thumb_width_ * aspect <= max_thumb_height_) {
      return {thumb_width_, std::max(1, static_cast<int>(std::lround(thumb_width_ * aspect)))};
    }
    return {std::max(1, static_cast<int>(std::lround(max_thumb_height_ / aspect))),
            max_thumb_height_};
  }

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
  int max_thumb_height_;
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
  return stage_info<ContactSheet>(
      {.type = "contact_sheet",
       .ordering = Ordering::serial_out_of_order,
       .summary =
           "One image summarizing the video: a grid of thumbnails of frames sampled evenly over "
           "its length (bounded memory), written when the run completes.",
       .example = "- { name: sheet, type: contact_sheet, params: { columns: 4, rows: 4 } }",
       .params = {ContactSheet::path, ContactSheet::columns, ContactSheet::rows,
                  ContactSheet::thumb_width, ContactSheet::max_thumb_height,
                  ContactSheet::timestamps, ContactSheet::jpeg_quality},
       .check =
           [](const Params& params) {
             std::vector<std::string> problems;
             if (!image_file::format_of(params[ContactSheet::path])) {
               problems.push_back("'path' must end in " + image_file::extensions_text() +
                                  ", got '" + params[ContactSheet::path] + "'");
             }
             const auto width =
                 sheet_side(params[ContactSheet::columns], params[ContactSheet::thumb_width]);
             const auto height =
                 sheet_side(params[ContactSheet::rows], params[ContactSheet::max_thumb_height]);
             if (width * height > kMaxSheetPixels) {
               problems.push_back("the sheet could be " + std::to_string(width) + "x" +
                                  std::to_string(height) + " pixels, more than " +
                                  std::to_string(kMaxSheetPixels) +
                                  ": lower columns, rows, thumb_width or max_thumb_height");
             }
             return problems;
           },
       .output_names = output_file::named_by(ContactSheet::path)});
}

}  // namespace framepipe::stages
