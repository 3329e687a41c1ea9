// fail: throws at a chosen frame, to see how a pipeline stops and what it leaves behind.
//   - { name: boom, type: fail, params: { at_frame: 50 } }
#include <stdexcept>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Fail : public TransformStage {
 public:
  explicit Fail(const Params& params)
      : at_frame_(params.integer("at_frame")), message_(params.string("message")) {}

  bool process(Frame& frame) override {
    if (frame.index == at_frame_) throw std::runtime_error(message_);
    return true;
  }

 private:
  std::int64_t at_frame_;
  std::string message_;
};

}  // namespace

StageInfo fail_stage() {
  return {
      .type = "fail",
      .kind = StageKind::transform,
      .resource = ResourceClass::cpu,
      .ordering = Ordering::parallel,
      .summary = "Throws when it sees frame `at_frame` (synthetic, for failure drills).",
      .example = "- { name: boom, type: fail, params: { at_frame: 50 } }",
      .params = {ParamSpec::integer("at_frame", 0, "index of the frame that fails").range(0, {}),
                 ParamSpec::string("message", "injected failure", "the error's text")},
      .create = [](const StageSetup& setup) { return std::make_unique<Fail>(setup.params); }};
}

}  // namespace framepipe::stages
