// sleep: blocks for a fixed time per frame without using the CPU, like a slow disk or network
// call. For tests and what-if modelling ("what if writing took 20 ms?").
//   - { name: wait, type: sleep, concurrency: 4, params: { ms: 20 } }
#include <chrono>
#include <thread>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Sleep : public TransformStage {
 public:
  explicit Sleep(const Params& params) : duration_(params.number("ms")) {}

  bool process(Frame&) override {
    std::this_thread::sleep_for(duration_);
    return true;
  }

 private:
  std::chrono::duration<double, std::milli> duration_;
};

}  // namespace

StageInfo sleep_stage() {
  return {
      .type = "sleep",
      .kind = StageKind::transform,
      .resource = ResourceClass::io,
      .ordering = Ordering::parallel,
      .summary = "Blocks `ms` per frame without using CPU, like IO (synthetic, for what-if runs).",
      .example = "- { name: wait, type: sleep, concurrency: 4, params: { ms: 20 } }",
      .params = {ParamSpec::number("ms", 5, "milliseconds to block per frame").range(0, 60000)},
      .create = [](const StageSetup& setup) { return std::make_unique<Sleep>(setup.params); }};
}

}  // namespace framepipe::stages
