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

}  // namespace framepipe::testing
