#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/registry.h"
#include "pipeline/stage.h"

namespace framepipe::testing {

// Builds one catalogue stage from a YAML entry ("{type: resize, params: {width: 64}}"), opens
// it, and drives it by hand through its whole life, the way the engine would: open (here) ->
// frames (pull() from a source, push() into a transform or a sink) -> finish() or abort().
class StageHarness {
 public:
  explicit StageHarness(const std::string& yaml_entry, RunContext context = {});
  StageHarness(const StageHarness&) = delete;
  StageHarness& operator=(const StageHarness&) = delete;

  // A transform runs on the frame: nullopt when it dropped it. A sink gets it as the engine
  // hands it over: prepare() first when its StageInfo::prepares, then consume(); the frame
  // comes back as consume() left it.
  std::optional<Frame> push(Frame frame);
  // A source's next frame; nullopt at the end of its stream.
  std::optional<Frame> pull();
  void finish() { stage_->finish(); }
  void abort() noexcept { stage_->abort(); }
  Stage& stage() { return *stage_; }
  const StageInfo& info() const { return *config_.info; }

 private:
  Registry registry_;
  StageConfig config_;
  std::unique_ptr<Stage> stage_;
};

// A run's context for a stage reading `input` and writing under `out_dir`, with the run's side
// data and the stage's metrics when given.
RunContext context_for(const std::filesystem::path& input,
                       const std::filesystem::path& out_dir = {}, SideData* side_data = nullptr,
                       StageMetrics* metrics = nullptr);

// Every frame the decode stage built from `entry` gives for `path`.
std::vector<Frame> decode_all(const std::filesystem::path& path,
                              const std::string& entry = "{type: decode}");

// The harness's stage, which is a sink.
inline SinkStage& sink_of(StageHarness& harness) {
  return dynamic_cast<SinkStage&>(harness.stage());
}

// Drives the stage as the engine does, whatever its kind, up to the end of its life: a source
// gives up to `frames.size()` frames (the given ones are not used), a transform or a sink gets
// each of `frames`; then finish() or, with `abort` set, abort().
void run_to_end(StageHarness& harness, const std::vector<Frame>& frames, bool abort);

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
