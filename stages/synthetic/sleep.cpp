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
  static inline const auto ms =
      Param<double>{"ms", 5, "milliseconds to block per frame"}.range(0, 60000);

  explicit Sleep(const Params& params) : duration_(params[ms]) {}

  bool process(Frame&) override {
    std::this_thread::sleep_for(duration_);
    return true;
  }

 private:
  std::chrono::duration<double, std::milli> duration_;
};

}  // namespace

StageInfo sleep_stage() {
  return stage_info<Sleep>(
      {.type = "sleep",
       .resource = ResourceClass::io,
       .summary = "Blocks `ms` per frame without using CPU, like IO (synthetic, for what-if runs).",
       .example = "- { name: wait, type: sleep, concurrency: 4, params: { ms: 20 } }",
       .params = {Sleep::ms}});
}

}  // namespace framepipe::stages
