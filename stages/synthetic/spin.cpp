// spin: burns a fixed amount of CPU time per frame, like a compute-heavy filter. For tests and
// what-if modelling ("what if inference took 30 ms of CPU?").
//   - { name: work, type: spin, concurrency: 2, params: { ms: 30 } }
#include "pipeline/profiler.h"
#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Spin : public TransformStage {
 public:
  static inline const auto ms =
      Param<double>{"ms", 5, "milliseconds of CPU time per frame"}.range(0, 60000);

  explicit Spin(const Params& params) : cpu_ns_(static_cast<std::int64_t>(params[ms] * 1e6)) {}

  bool process(Frame&) override {
    // Counts this thread's CPU time, not wall time, so a preempted spin still burns `ms` of CPU.
    const auto until = thread_cpu_now_ns() + cpu_ns_;
    volatile std::uint64_t sink = 0;
    while (thread_cpu_now_ns() < until) {
      for (int i = 0; i < 1000; ++i) sink = sink + static_cast<std::uint64_t>(i);
    }
    return true;
  }

 private:
  std::int64_t cpu_ns_;
};

}  // namespace

StageInfo spin_stage() {
  return stage_info<Spin>(
      {.type = "spin",
       .summary = "Burns `ms` of CPU time per frame (synthetic, for what-if runs).",
       .example = "- { name: work, type: spin, concurrency: 2, params: { ms: 30 } }",
       .params = {Spin::ms}});
}

}  // namespace framepipe::stages
