// motion: scores how much each frame differs from the previous one:
// scalars["motion"] = mean |gray - previous gray| / 255, in [0, 1] (0 for the first frame,
// which has nothing to compare with, and after a change of frame size). The image passes
// through unchanged. With `threshold` > 0 it drops frames scoring below it, the first frame
// included, to keep only the moments when something moves.
//   - { name: moving, type: motion, params: { threshold: 0.02 } }
#include <opencv2/imgproc.hpp>

#include "pipeline/stage.h"
#include "stages/vision/gray.h"

namespace framepipe::stages {

namespace {

class Motion : public TransformStage {
 public:
  static inline const auto threshold =
      Param<double>{"threshold", 0,
                    "drop frames whose score is below this; 0 keeps every "
                    "frame"}
          .range(0, 1);

  explicit Motion(const Params& params) : threshold_(params[threshold]) {}

  bool process(Frame& frame) override {
    // Kept for the next frame; nobody writes into frame pixels, so sharing them is safe.
    cv::Mat gray = gray_of(frame);
    double score = 0;
    if (previous_.size() == gray.size()) {
      cv::Mat difference;
      cv::absdiff(gray, previous_, difference);
      score = cv::mean(difference)[0] / 255.0;
    }
    previous_ = std::move(gray);
    frame.scalars["motion"] = score;
    return score >= threshold_;
  }

 private:
  double threshold_;
  cv::Mat previous_;
};

}  // namespace

StageInfo motion_stage() {
  return stage_info<Motion>(
      {.type = "motion",
       .ordering = Ordering::serial_in_order,
       .summary = "Frame-difference motion score in scalars[\"motion\"] (0-1); optionally "
                  "drops frames below a threshold.",
       .example = "- { name: moving, type: motion, params: { threshold: 0.02 } }",
       .params = {Motion::threshold}});
}

}  // namespace framepipe::stages
