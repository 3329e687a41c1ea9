#include "tests/support/stage_harness.h"

#include <stdexcept>

#include "stages/register_all.h"

namespace framepipe::testing {

StageHarness::StageHarness(const std::string& yaml_entry, RunContext context) {
  stages::register_all(registry_);
  config_ = load_stage_text(yaml_entry, registry_);
  stage_ = config_.info->create(StageSetup{config_.name, config_.params});
  stage_->open(context);
}

std::optional<Frame> StageHarness::push(Frame frame) {
  auto* transform = dynamic_cast<TransformStage*>(stage_.get());
  if (!transform) throw std::logic_error("StageHarness::push needs a transform stage");
  if (!transform->process(frame)) return std::nullopt;
  return frame;
}

Frame make_frame(cv::Mat image, std::int64_t index) {
  Frame frame;
  frame.index = index;
  frame.pts = index;
  frame.time_base = {1, 25};
  frame.frame_rate = {25, 1};
  frame.set_image(std::move(image));
  return frame;
}

}  // namespace framepipe::testing
