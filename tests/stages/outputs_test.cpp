// The sinks that write detections, stills and contact sheets: what they write, read back
// independently (nlohmann::json, cv::imread), and the promise that a failed run leaves nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "tests/support/media.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class OutputsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-outputs"); }
  void TearDown() override { fs::remove_all(dir_); }

  RunContext context(bool overwrite = false) const {
    return RunContext{"/videos/clip.mp4", dir_, overwrite, nullptr};
  }
  // Every file under the output folder, relative to it, hidden ones included.
  std::set<std::string> files() const {
    std::set<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (entry.is_regular_file()) names.insert(fs::relative(entry.path(), dir_).string());
    }
    return names;
  }
  fs::path dir_;
};

// A 64x48 frame whose colour encodes its index, timed at 25 fps.
Frame numbered_frame(std::int64_t index) {
  return make_frame(
      cv::Mat(48, 64, CV_8UC3, cv::Scalar(static_cast<double>(index % 256), 100, 200)), index);
}

// ---- write_detections --------------------------------------------------------------------

std::vector<Frame> frames_with_results() {
  std::vector<Frame> frames;
  for (int i = 0; i < 3; ++i) frames.push_back(numbered_frame(i));
  frames[0].detections = {{{1, 2, 30, 40}, 1.25f, "person", "people"},
                          {{5, 6, 7, 8}, 0.5f, "face", "faces"}};
  frames[0].scalars["motion"] = 0.125;
  // frame 1: nothing found
  frames[2].detections = {{{10, 20, 3, 4}, 0.75f, "person", "people"}};
  frames[2].scalars["motion"] = 0.5;
  return frames;
}

TEST_F(OutputsTest, DetectionsOneLinePerDetectionWithFrameTimeAndScalars) {
  StageHarness harness("{type: write_detections}", context());
  for (auto frame : frames_with_results()) sink_of(harness).consume(frame);
  harness.stage().finish();

  const auto path = dir_ / "clip-detections.jsonl";
  EXPECT_EQ(harness.stage().outputs(), std::vector<fs::path>{path});
  EXPECT_EQ(files(), std::set<std::string>{"clip-detections.jsonl"});
  const auto lines = read_json_lines(path);
  ASSERT_EQ(lines.size(), 3u) << "frame 1 found nothing and writes no line";
  EXPECT_EQ(lines[0], json::parse(R"({"file": "/videos/clip.mp4", "frame": 0, "pts": 0,
      "time_s": 0.0, "stage": "people", "label": "person", "score": 1.25,
      "box": {"x": 1, "y": 2, "w": 30, "h": 40}, "scalars": {"motion": 0.125}})"));
  EXPECT_EQ(lines[1]["label"], "face");
  EXPECT_EQ(lines[1]["box"], json::parse(R"({"x": 5, "y": 6, "w": 7, "h": 8})"));
  EXPECT_EQ(lines[2]["frame"], 2);
  EXPECT_DOUBLE_EQ(lines[2]["time_s"].get<double>(), 0.08);  // pts 2 at 1/25 s
  EXPECT_DOUBLE_EQ(lines[2]["score"].get<double>(), 0.75);
}

TEST_F(OutputsTest, DetectionsPerFrameAndFilteredByStage) {
  StageHarness harness(
      "{type: write_detections, params: {path: 'index/{stem}.jsonl', per: frame, from: people}}",
      context());
  for (auto frame : frames_with_results()) sink_of(harness).consume(frame);
  harness.stage().finish();

  const auto lines = read_json_lines(dir_ / "index/clip.jsonl");
  ASSERT_EQ(lines.size(), 3u) << "one line per frame";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lines[i]["frame"], i);
  ASSERT_EQ(lines[0]["detections"].size(), 1u) << "the face came from another stage";
  EXPECT_EQ(lines[0]["detections"][0]["label"], "person");
  EXPECT_EQ(lines[0]["scalars"]["motion"], 0.125);
  EXPECT_EQ(lines[1]["detections"], json::array());
  EXPECT_EQ(lines[1]["scalars"], json::object());
  EXPECT_EQ(lines[2]["scalars"]["motion"], 0.5);
}

TEST_F(OutputsTest, DetectionsAreWrittenUnderATemporaryNameAndRemovedOnAbort) {
  StageHarness harness("{type: write_detections}", context());
  for (auto frame : frames_with_results()) sink_of(harness).consume(frame);
  const auto during = files();
  ASSERT_EQ(during.size(), 1u);
  EXPECT_EQ(during.begin()->rfind(".clip-detections.partial-", 0), 0u) << *during.begin();
  harness.stage().abort();
  EXPECT_TRUE(files().empty());
  EXPECT_TRUE(harness.stage().outputs().empty());
}

TEST_F(OutputsTest, DetectionsRefuseAnExistingFileUnlessOverwrite) {
  std::ofstream(dir_ / "clip-detections.jsonl") << "keep me\n";
  EXPECT_THROW(StageHarness("{type: write_detections}", context()), std::runtime_error);
  EXPECT_EQ(read_text(dir_ / "clip-detections.jsonl"), "keep me\n");

  StageHarness harness("{type: write_detections}", context(true));
  for (auto frame : frames_with_results()) sink_of(harness).consume(frame);
  harness.stage().finish();
  EXPECT_EQ(read_json_lines(dir_ / "clip-detections.jsonl").size(), 3u);
}

// ---- write_images ------------------------------------------------------------------------

TEST_F(OutputsTest, ImagesEveryNthFrameNamedByIndexWithTheFramesPixels) {
  StageHarness harness("{type: write_images, params: {every: 3}}", context());
  std::vector<Frame> frames;
  for (int i = 0; i < 10; ++i) {
    cv::Mat image(48, 64, CV_8UC3);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(256));
    frames.push_back(make_frame(image, i));
    sink_of(harness).consume(frames.back());
  }
  harness.stage().finish();

  const std::set<std::string> expected = {"clip-frames/000000.png", "clip-frames/000003.png",
                                          "clip-frames/000006.png", "clip-frames/000009.png"};
  EXPECT_EQ(files(), expected);
  std::vector<fs::path> listed;
  for (const auto& name : expected) listed.push_back(dir_ / name);
  EXPECT_EQ(harness.stage().outputs(), listed);
  for (int i : {0, 3, 6, 9}) {
    const auto image = cv::imread((dir_ / listed[i / 3]).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(image.empty());
    EXPECT_EQ(cv::norm(image, frames[i].image(), cv::NORM_INF), 0.0) << "PNG is lossless";
  }
}

TEST_F(OutputsTest, ImagesAsJpegWithAPlainFrameNumber) {
  StageHarness harness("{type: write_images, params: {path: 'still-{frame}.jpg', every: 5}}",
                       context());
  for (int i = 0; i < 11; ++i) {
    auto frame = numbered_frame(i);
    sink_of(harness).consume(frame);
  }
  harness.stage().finish();
  EXPECT_EQ(files(), (std::set<std::string>{"still-0.jpg", "still-5.jpg", "still-10.jpg"}));
  const auto image = cv::imread((dir_ / "still-10.jpg").string());
  ASSERT_EQ(image.size(), cv::Size(64, 48));
  EXPECT_NEAR(cv::mean(image)[0], 10, 3);  // frame 10's blue channel
}

TEST_F(OutputsTest, ImagesAbortRemovesEveryImageAndFolderTheRunMade) {
  StageHarness harness("{type: write_images, params: {path: 'a/b/{frame:03}.png'}}", context());
  for (int i = 0; i < 4; ++i) {
    auto frame = numbered_frame(i);
    sink_of(harness).consume(frame);
  }
  EXPECT_EQ(files().size(), 4u);
  harness.stage().abort();
  EXPECT_TRUE(files().empty());
  EXPECT_FALSE(fs::exists(dir_ / "a"));
  EXPECT_TRUE(harness.stage().outputs().empty());
}

// The folder all images share is made before the first frame, so that one that cannot be made
// fails the run at once; a run that writes no image into it leaves it gone again.
TEST_F(OutputsTest, ImagesFolderIsMadeAtOpenAndGoneWhenNoImageWasWritten) {
  StageHarness harness("{type: write_images, params: {path: 'a/b/{frame:03}.png', every: 100}}",
                       context());
  EXPECT_TRUE(fs::is_directory(dir_ / "a/b"));
  for (int i = 1; i < 4; ++i) {
    auto frame = numbered_frame(i);
    sink_of(harness).consume(frame);
  }
  harness.stage().finish();
  EXPECT_FALSE(fs::exists(dir_ / "a"));
  EXPECT_TRUE(harness.stage().outputs().empty());
}

TEST_F(OutputsTest, ImagesRefuseToReplaceAnImageUnlessOverwrite) {
  fs::create_directories(dir_ / "clip-frames");
  std::ofstream(dir_ / "clip-frames/000002.png") << "keep me";
  StageHarness harness("{type: write_images}", context());
  for (int i = 0; i < 2; ++i) {
    auto frame = numbered_frame(i);
    sink_of(harness).consume(frame);
  }
  auto third = numbered_frame(2);
  EXPECT_THROW(sink_of(harness).consume(third), std::runtime_error);
  harness.stage().abort();
  // The run's own images are gone; the one it refused to replace is intact.
  EXPECT_EQ(files(), std::set<std::string>{"clip-frames/000002.png"});
  EXPECT_EQ(read_text(dir_ / "clip-frames/000002.png"), "keep me");
}

TEST_F(OutputsTest, ImagesPathMustNameEachFrame) {
  for (const char* entry : {"{type: write_images, params: {path: 'same.png'}}",
                            "{type: write_images, params: {path: '{frame}.gif'}}"}) {
    SCOPED_TRACE(entry);
    EXPECT_THROW(StageHarness(entry, context()), std::runtime_error);
  }
}

// ---- contact_sheet -----------------------------------------------------------------------

// The frame index a thumbnail shows: numbered_frame puts index % 256 in the blue channel.
int index_in_cell(const cv::Mat& sheet, int cell, int columns, cv::Size thumb) {
  const cv::Rect area(4 + (cell % columns) * (thumb.width + 4),
                      4 + (cell / columns) * (thumb.height + 4), thumb.width, thumb.height);
  return static_cast<int>(std::lround(cv::mean(sheet(area))[0]));
}

TEST_F(OutputsTest, ContactSheetSamplesEvenlyOverTheWholeVideo) {
  StageHarness harness(
      "{type: contact_sheet, params: {path: '{stem}.png', columns: 4, rows: 2, thumb_width: 32, "
      "timestamps: false}}",
      context());
  for (int i = 0; i < 200; ++i) {
    auto frame = numbered_frame(i);
    sink_of(harness).consume(frame);
  }
  harness.stage().finish();
  EXPECT_EQ(harness.stage().outputs(), std::vector<fs::path>{dir_ / "clip.png"});
  EXPECT_EQ(files(), std::set<std::string>{"clip.png"});

  const auto sheet = cv::imread((dir_ / "clip.png").string());
  const cv::Size thumb(32, 24);  // 64x48 frames at 32 wide
  ASSERT_EQ(sheet.size(), cv::Size(4 + 4 * (32 + 4), 4 + 2 * (24 + 4)));
  // Eight frames of 200, in order, starting with the first and spread over the whole length:
  // no gap more than twice the even spacing (25), the last in the final quarter.
  std::vector<int> shown;
  for (int cell = 0; cell < 8; ++cell) shown.push_back(index_in_cell(sheet, cell, 4, thumb));
  EXPECT_EQ(shown.front(), 0);
  for (std::size_t i = 1; i < shown.size(); ++i) {
    EXPECT_GT(shown[i], shown[i - 1]);
    EXPECT_LE(shown[i] - shown[i - 1], 50);
  }
  EXPECT_GE(shown.back(), 150);
}

TEST_F(OutputsTest, ContactSheetOfAShortVideoShowsEveryFrame) {
  StageHarness harness(
      "{type: contact_sheet, params: {path: 'sheet.png', columns: 4, rows: 4, thumb_width: 64}}",
      context());
  for (int i = 0; i < 6; ++i) {
    auto frame = numbered_frame(i * 40);
    sink_of(harness).consume(frame);
  }
  harness.stage().finish();
  const auto sheet = cv::imread((dir_ / "sheet.png").string());
  // Six thumbnails: one full row of four and two in the second.
  ASSERT_EQ(sheet.size(), cv::Size(4 + 4 * (64 + 4), 4 + 2 * (48 + 4)));
  // Timestamps are printed in the lower left of each thumbnail: white text.
  cv::Mat white;
  cv::inRange(sheet(cv::Rect(4, 4 + 30, 40, 18)), cv::Scalar::all(200), cv::Scalar::all(255),
              white);
  EXPECT_GT(cv::countNonZero(white), 10);
}

TEST_F(OutputsTest, ContactSheetAbortAndExistingFile) {
  {
    StageHarness harness("{type: contact_sheet}", context());
    auto frame = numbered_frame(0);
    sink_of(harness).consume(frame);
    harness.stage().abort();
    EXPECT_TRUE(files().empty());
  }
  std::ofstream(dir_ / "clip-sheet.jpg") << "keep me";
  EXPECT_THROW(StageHarness("{type: contact_sheet}", context()), std::runtime_error);
  EXPECT_EQ(read_text(dir_ / "clip-sheet.jpg"), "keep me");
}

}  // namespace
}  // namespace framepipe::testing
