// fail: throws at a chosen frame, or at random frames, to see how a pipeline stops and what it
// leaves behind; or crashes the process there, as a bug in a library would.
//   - { name: boom, type: fail, params: { at_frame: 50 } }
//   - { name: flaky, type: fail, params: { probability: 0.01, seed: 7 } }
//   - { name: segv, type: fail, params: { at_frame: 5, crash: segfault } }
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

// SplitMix64's finalizer: a well-mixed 64-bit hash of (seed, frame index).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Whether frame `index` fails under (`probability`, `seed`): a function of the two alone, not
// of a shared generator, so a parallel stage fails at the same frames whatever order its
// threads see them in, and a run repeats exactly.
bool drawn(double probability, std::int64_t seed, std::int64_t index) {
  const auto bits = mix(static_cast<std::uint64_t>(seed) ^ mix(static_cast<std::uint64_t>(index)));
  // The top 53 bits as a double in [0, 1).
  return static_cast<double>(bits >> 11) * 0x1.0p-53 < probability;
}

class Fail : public TransformStage {
 public:
  static inline const auto at_frame =
      Param<std::int64_t>{"at_frame", -1, "index of the frame that fails; -1 = none"}.range(-1, {});
  static inline const auto probability =
      Param<double>{"probability", 0,
                    "chance that any one frame fails, drawn from `seed` and the frame index"}
          .range(0, 1);
  static inline const Param<std::int64_t> seed{"seed", 0, "seed of the random failures"};
  static inline const Param<std::string> message{"message", "injected failure", "the error's text"};
  static inline const auto crash = Param<std::string>::choice(
      "crash", {"none", "segfault", "abort"}, "none",
      "instead of throwing, crash the whole process: raise SIGSEGV or call abort() (for process "
      "isolation drills)");

  explicit Fail(const Params& params)
      : at_frame_(params[at_frame]),
        probability_(params[probability]),
        seed_(params[seed]),
        message_(params[message]),
        crash_(params[crash]) {}

  bool process(Frame& frame) override {
    if (frame.index == at_frame_ || drawn(probability_, seed_, frame.index)) {
      if (crash_ == "segfault") std::raise(SIGSEGV);
      if (crash_ == "abort") std::abort();
      throw std::runtime_error(message_);
    }
    return true;
  }

 private:
  std::int64_t at_frame_;
  double probability_;
  std::int64_t seed_;
  std::string message_;
  std::string crash_;
};

}  // namespace

StageInfo fail_stage() {
  return stage_info<Fail>(
      {.type = "fail",
       .summary =
           "Throws at frame `at_frame`, and at each frame with `probability` (synthetic, for "
           "failure drills; the same `seed` fails at the same frames).",
       .example = "- { name: boom, type: fail, params: { at_frame: 50 } }",
       .params = {Fail::at_frame, Fail::probability, Fail::seed, Fail::message, Fail::crash},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         if (params[Fail::at_frame] < 0 && params[Fail::probability] == 0) {
           problems.push_back("set 'at_frame' or 'probability': as it is, nothing fails");
         }
         return problems;
       }});
}

}  // namespace framepipe::stages
