// decode defers the conversion of its pictures to BGR until a stage reads the pixels. That
// conversion is decode's work: the profiler bills it to decode's conversion phase, and not to
// the stage whose call happened to read the pixels first, as that stage's own clock shows.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "pipeline/config.h"
#include "pipeline/run.h"
#include "stages/register_all.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

// What ReadPixels measured itself, around its whole call.
struct OwnClock {
  std::atomic<std::int64_t> wall_ns{0};
  std::atomic<int> calls{0};
};

// Reads one pixel of each frame and nothing else, timing its own call with the steady clock.
class ReadPixels : public TransformStage {
 public:
  explicit ReadPixels(OwnClock& clock) : clock_(clock) {}
  bool process(Frame& frame) override {
    const auto start = steady_now_ns();
    const bool has_pixels = !frame.image().empty();
    clock_.wall_ns += steady_now_ns() - start;
    ++clock_.calls;
    if (!has_pixels) throw std::runtime_error("no pixels");
    return true;
  }

 private:
  OwnClock& clock_;
};

const PhaseTotals* find_phase(const StageRunStats& stage, const std::string& name) {
  for (const auto& phase : stage.phases) {
    if (phase.name == name) return &phase;
  }
  return nullptr;
}

TEST(ConversionBilling, DeferredConversionIsDecodesPhaseNotTheReadersTime) {
  Registry registry;
  stages::register_all(registry);
  OwnClock clock;
  registry.add(
      {.type = "read_pixels",
       .kind = StageKind::transform,
       .resource = ResourceClass::cpu,
       .ordering = Ordering::parallel,
       .summary = "test stage",
       .example = "- {name: reader, type: read_pixels}",
       .create = [&clock](const StageSetup&) { return std::make_unique<ReadPixels>(clock); }});
  auto config = load_config_text(
      "pipeline: {threads: 2}\n"
      "stages:\n"
      "  - {type: decode}\n"
      "  - {name: reader, type: read_pixels}\n"
      "  - {type: discard}\n",
      "billing.yaml", {}, registry);
  // 50 frames (25 fps for 2 s), large enough that converting one costs far more than reading
  // one pixel.
  config.input_path = make_clip("billing-640x480-50f.mp4",
                                "-f lavfi -i testsrc2=size=640x480:rate=25:duration=2 -c:v "
                                "libx264 -preset ultrafast -pix_fmt yuv420p")
                          .string();
  const auto result = run_pipeline(config);
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_EQ(result.frames, 50);
  ASSERT_EQ(clock.calls.load(), 50);

  const auto& decode = result.stages[0];
  const auto& reader = result.stages[1];
  const auto* convert = find_phase(decode, kConversionPhase);
  ASSERT_NE(convert, nullptr) << "decode has a conversion phase";
  EXPECT_EQ(convert->items, result.frames) << "each picture converted once";
  EXPECT_GT(convert->wall_ns, 0);
  EXPECT_GT(convert->cpu_ns, 0);
  EXPECT_GE(decode.cpu_ns, convert->cpu_ns) << "the conversion's CPU is decode's";
  EXPECT_EQ(find_phase(reader, kConversionPhase), nullptr);

  // The profiler's call encloses the stage's own clock, so the reader's busy time plus the
  // conversion taken out of it covers what the stage measured; it exceeds it only by the
  // profiler's own reads and by preemption between the two clocks (the tolerance).
  const auto undivided_ns = clock.wall_ns.load();
  EXPECT_GE(reader.busy_ns + convert->wall_ns, undivided_ns);
  EXPECT_LE(reader.busy_ns + convert->wall_ns, undivided_ns + undivided_ns / 10 + 5'000'000)
      << "busy " << reader.busy_ns << " ns, conversion " << convert->wall_ns << " ns";
  // Reading one pixel costs next to nothing: without the conversion the reader's CPU is a small
  // part of it (CPU time, unlike wall time, does not grow when the machine is busy).
  EXPECT_LT(reader.cpu_ns, convert->cpu_ns / 2)
      << "reader " << reader.cpu_ns << " ns CPU, conversion " << convert->cpu_ns << " ns";
}

}  // namespace
}  // namespace framepipe::testing
