#include "tests/support/stage_harness.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "stages/register_all.h"

namespace framepipe::testing {

RunContext context_for(const std::filesystem::path& input, const std::filesystem::path& out_dir,
                       SideData* side_data, StageMetrics* metrics) {
  RunContext context{input.string(), out_dir, false, metrics};
  context.side_data = side_data;
  return context;
}

std::vector<Frame> decode_all(const std::filesystem::path& path, const std::string& entry) {
  StageHarness harness(entry, context_for(path));
  auto& source = dynamic_cast<SourceStage&>(harness.stage());
  std::vector<Frame> frames;
  while (auto frame = source.next()) frames.push_back(std::move(*frame));
  return frames;
}

StageHarness::StageHarness(const std::string& yaml_entry, RunContext context) {
  stages::register_all(registry_);
  config_ = load_stage_text(yaml_entry, registry_);
  stage_ = config_.info->create(StageSetup{config_.name, config_.params});
  stage_->open(context);
}

std::optional<Frame> StageHarness::push(Frame frame) {
  if (auto* sink = dynamic_cast<SinkStage*>(stage_.get())) {
    if (info().prepares) sink->prepare(frame);
    sink->consume(frame);
    return frame;
  }
  auto* transform = dynamic_cast<TransformStage*>(stage_.get());
  if (!transform) throw std::logic_error("StageHarness::push needs a transform or a sink");
  if (!transform->process(frame)) return std::nullopt;
  return frame;
}

std::optional<Frame> StageHarness::pull() {
  auto* source = dynamic_cast<SourceStage*>(stage_.get());
  if (!source) throw std::logic_error("StageHarness::pull needs a source");
  return source->next();
}

void run_to_end(StageHarness& harness, const std::vector<Frame>& frames, bool abort) {
  for (const auto& frame : frames) {
    if (harness.info().kind == StageKind::source) {
      if (!harness.pull()) break;
    } else {
      harness.push(frame);
    }
  }
  if (abort) {
    harness.abort();
  } else {
    harness.finish();
  }
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

cv::Mat structured_image(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(image, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(60));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) image.at<cv::Vec3b>(y, x)[2] += static_cast<uchar>(x);
  }
  cv::rectangle(image, {20, 15}, {90, 70}, {255, 200, 30}, cv::FILLED);
  cv::circle(image, {120, 50}, 25, {10, 240, 120}, 3);
  return image;
}

cv::Mat gray_of(const cv::Mat& bgr) {
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

void expect_identical(const cv::Mat& actual, const cv::Mat& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  ASSERT_EQ(actual.type(), expected.type());
  EXPECT_EQ(cv::norm(actual, expected, cv::NORM_INF), 0.0);
}

cv::Mat transform_once(const std::string& yaml, const cv::Mat& input) {
  StageHarness harness(yaml);
  auto out = harness.push(make_frame(input.clone()));
  EXPECT_TRUE(out.has_value());
  return out ? out->image().clone() : cv::Mat();
}

}  // namespace framepipe::testing
