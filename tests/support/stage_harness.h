#pragma once

#include <memory>
#include <optional>
#include <string>

#include "pipeline/config.h"
#include "pipeline/registry.h"
#include "pipeline/stage.h"

namespace framepipe::testing {

// Builds one catalogue stage from a YAML entry ("{type: resize, params: {width: 64}}"), opens
// it, and pushes frames through it by hand, the way the engine would.
class StageHarness {
 public:
  explicit StageHarness(const std::string& yaml_entry, RunContext context = {});
  StageHarness(const StageHarness&) = delete;
  StageHarness& operator=(const StageHarness&) = delete;

  // Runs a transform on the frame; nullopt when the stage dropped it.
  std::optional<Frame> push(Frame frame);
  Stage& stage() { return *stage_; }

 private:
  Registry registry_;
  StageConfig config_;
  std::unique_ptr<Stage> stage_;
};

// A frame holding `image`, as a source would make it.
Frame make_frame(cv::Mat image, std::int64_t index = 0);

// A deterministic BGR picture with structure (noise, a gradient, shapes), so filters have
// something to change and edges to find.
cv::Mat structured_image(int width = 161, int height = 97);
cv::Mat gray_of(const cv::Mat& bgr);
// Same size, same type, and not one pixel different.
void expect_identical(const cv::Mat& actual, const cv::Mat& expected);
// Builds the stage from `yaml`, runs it on a copy of `input` once and returns its image.
cv::Mat transform_once(const std::string& yaml, const cv::Mat& input);

}  // namespace framepipe::testing
