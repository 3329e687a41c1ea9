// detect_people: finds standing people with OpenCV's HOG + linear SVM people detector.
//   - { name: people, type: detect_people, concurrency: 2, params: { scale: 1.05 } }
#include <atomic>
#include <map>
#include <opencv2/dnn.hpp>
#include <opencv2/objdetect.hpp>

#include "pipeline/stage.h"
#include "stages/ml/best_first.h"

namespace framepipe::stages {

namespace {

class DetectPeople : public TransformStage {
 public:
  static inline const auto scale =
      Param<double>{"scale", 1.05,
                    "factor between successive image pyramid levels: smaller finds "
                    "more sizes, slower"}
          .range(1.01, 2);
  static inline const auto win_stride =
      Param<int>{"win_stride", 8,
                 "window step in pixels, a multiple of 8 (the block stride): smaller "
                 "is slower and finds more"}
          .range(8, 128);
  static inline const auto padding =
      Param<int>{"padding", 0, "pixels of padding around the image for the search"}.range(0, 128);
  static inline const auto hit_threshold =
      Param<double>{"hit_threshold", 0,
                    "SVM distance a window needs to count: higher means fewer, surer "
                    "hits"}
          .range(-10, 10);
  static inline const auto group_threshold =
      Param<int>{"group_threshold", 2,
                 "cv::groupRectangles: overlapping windows a box needs to be kept; 0 "
                 "keeps every window ungrouped"}
          .range(0, 100);
  static inline const auto min_score =
      Param<double>{"min_score", 0, "drop boxes whose weight is below this"}.range(-10, 100);
  static inline const auto nms =
      Param<double>{"nms", 0,
                    "non-maximum suppression IoU threshold applied after grouping (e.g. "
                    "0.4 with group_threshold 0); 0 = off"}
          .range(0, 1);

  DetectPeople(const StageSetup& setup)
      : name_(setup.name),
        hit_threshold_(setup.params[hit_threshold]),
        win_stride_(setup.params[win_stride], setup.params[win_stride]),
        padding_(setup.params[padding], setup.params[padding]),
        scale_(setup.params[scale]),
        group_threshold_(setup.params[group_threshold]),
        min_score_(setup.params[min_score]),
        nms_(setup.params[nms]) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  }

  // One HOGDescriptor serves every concurrent call: detectMultiScale is const and, for a
  // cv::Mat input (OpenCV 4.6, hog.cpp), builds its gradient cache and result lists per call
  // and only reads the SVM weights, so parallel calls share nothing mutable. The ML test runs
  // one instance from four threads and compares with serial results.
  bool process(Frame& frame) override {
    // A colour image is used as it is: HOG takes each pixel's strongest channel gradient,
    // which finds more people than a gray conversion would.
    const cv::Mat& image = frame.image();
    // OpenCV's HOG reads out of bounds on an image smaller than its window (a 64x64 frame
    // crashed it), and no person fits in one: such frames are skipped, counted, unpadded.
    if (image.cols < hog_.winSize.width || image.rows < hog_.winSize.height) {
      ++frames_too_small_;
      return true;
    }
    std::vector<cv::Rect> boxes;
    std::vector<double> weights;
    hog_.detectMultiScale(image, boxes, weights, hit_threshold_, win_stride_, padding_, scale_,
                          group_threshold_);
    std::vector<int> keep;
    if (nms_ > 0) {
      const std::vector<float> scores(weights.begin(), weights.end());
      cv::dnn::NMSBoxes(boxes, scores, static_cast<float>(min_score_), static_cast<float>(nms_),
                        keep);
    } else {
      for (std::size_t i = 0; i < boxes.size(); ++i) {
        if (weights[i] >= min_score_) keep.push_back(static_cast<int>(i));
      }
    }
    const cv::Rect bounds(0, 0, image.cols, image.rows);
    std::vector<Detection> found;
    for (const int i : keep) {
      // Windows near the border may stick out of the frame once grouped or padded.
      const cv::Rect box = boxes[i] & bounds;
      if (box.empty()) continue;
      found.push_back({box, static_cast<float>(weights[i]), "person", name_});
    }
    add_best_first(std::move(found), frame);
    return true;
  }

  std::map<std::string, double> counters() const override {
    return {{"frames_too_small", static_cast<double>(frames_too_small_.load())}};
  }

 private:
  std::string name_;
  cv::HOGDescriptor hog_;
  double hit_threshold_;
  cv::Size win_stride_;
  cv::Size padding_;
  double scale_;
  int group_threshold_;
  double min_score_;
  double nms_;
  std::atomic<std::int64_t> frames_too_small_{0};
};

}  // namespace

StageInfo detect_people_stage() {
  return stage_info<DetectPeople>(
      {.type = "detect_people",
       .summary = "Finds standing people (cv::HOGDescriptor with OpenCV's default people detector, "
                  "64x128 windows) and adds a 'person' detection per box; score = SVM weight. "
                  "Frames smaller than a window are skipped (counter frames_too_small).",
       .example =
           "- { name: people, type: detect_people, concurrency: 2, params: { scale: 1.05 } }",
       .params = {DetectPeople::scale, DetectPeople::win_stride, DetectPeople::padding,
                  DetectPeople::hit_threshold, DetectPeople::group_threshold,
                  DetectPeople::min_score, DetectPeople::nms},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         if (params[DetectPeople::win_stride] % 8 != 0) {
           problems.push_back("'win_stride' must be a multiple of 8 (HOG's block stride), got " +
                              std::to_string(params[DetectPeople::win_stride]));
         }
         return problems;
       }});
}

}  // namespace framepipe::stages
