// The ML stages: detectors on real pictures (OpenCV's sample data, regions checked by eye),
// against direct OpenCV calls, and under parallel calls; the dnn stage on tiny ONNX models whose
// outputs numpy computed; drawing and blurring detections.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <thread>

#include "pipeline/config.h"
#include "stages/register_all.h"
#include "tests/support/media.h"
#include "tests/support/onnx_models.h"
#include "tests/support/opencv_samples.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

// The frames of `path` at the given positions, decoded by the decode stage and numbered as the
// engine numbers them.
std::vector<Frame> frames_at(const fs::path& path, std::vector<std::int64_t> indices) {
  StageHarness decode("{type: decode}", RunContext{path.string(), {}, false, nullptr});
  auto& source = dynamic_cast<SourceStage&>(decode.stage());
  std::vector<Frame> frames;
  std::sort(indices.begin(), indices.end());
  std::int64_t next = 0;
  for (const auto index : indices) {
    std::optional<Frame> frame;
    for (; next <= index; ++next) {
      frame = source.next();
      if (!frame)
        throw std::runtime_error(path.string() + " has no frame " + std::to_string(index));
    }
    frame->index = index;
    frame->image();  // convert now: the test keeps the frame after the decoder moves on
    frames.push_back(std::move(*frame));
  }
  return frames;
}

bool same(const Detection& a, const Detection& b) {
  return a.box == b.box && a.score == b.score && a.label == b.label && a.stage == b.stage;
}

void expect_same(const std::vector<Detection>& actual, const std::vector<Detection>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_TRUE(same(actual[i], expected[i]))
        << i << ": " << actual[i].label << " " << actual[i].box << " " << actual[i].score << " vs "
        << expected[i].label << " " << expected[i].box << " " << expected[i].score;
  }
}

// The order detectors promise: highest score first, then top to bottom, left to right.
std::vector<Detection> best_first(std::vector<Detection> found) {
  std::stable_sort(found.begin(), found.end(), [](const Detection& a, const Detection& b) {
    return std::tuple(-a.score, a.box.y, a.box.x) < std::tuple(-b.score, b.box.y, b.box.x);
  });
  return found;
}

std::vector<Detection> detect(StageHarness& harness, const Frame& frame) {
  auto out = harness.push(frame);
  EXPECT_TRUE(out.has_value());
  return out ? out->detections : std::vector<Detection>{};
}

// Runs one stage instance on every frame from `threads` threads at once, each thread taking
// every frame, and checks each result equals the serial one.
void expect_parallel_matches_serial(StageHarness& harness, const std::vector<Frame>& frames,
                                    int threads) {
  std::vector<std::vector<Detection>> serial;
  for (const auto& frame : frames) serial.push_back(detect(harness, frame));
  auto& stage = dynamic_cast<TransformStage&>(harness.stage());
  std::vector<std::vector<std::vector<Detection>>> results(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // Each thread starts at another frame so different frames overlap in time.
      for (std::size_t i = 0; i < frames.size(); ++i) {
        Frame frame = frames[(i + t) % frames.size()];
        stage.process(frame);
        results[t].push_back(std::move(frame.detections));
      }
    });
  }
  for (auto& thread : pool) thread.join();
  for (int t = 0; t < threads; ++t) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      SCOPED_TRACE("thread " + std::to_string(t) + ", frame " + std::to_string(i));
      expect_same(results[t][i], serial[(i + t) % frames.size()]);
    }
  }
}

// ---- detect_people -----------------------------------------------------------------------

struct Person {
  std::int64_t frame;
  cv::Rect body;  // where the person is, read off the frame by eye
};

// vtest.avi (768x576, people walking across a car park). Each body was outlined by looking at
// the extracted frame, magnified with a 10-pixel grid.
const Person kPeople[] = {
    {0, {254, 220, 28, 85}},   {0, {640, 240, 43, 80}},   {200, {617, 265, 33, 101}},
    {200, {705, 255, 38, 98}}, {250, {373, 230, 47, 96}}, {250, {600, 255, 42, 98}},
};

TEST(DetectPeopleStage, FindsThePeopleVisibleInOpenCvsWalkingVideo) {
  const auto frames = frames_at(opencv_sample("vtest.avi"), {0, 200, 250});
  StageHarness harness("{name: people, type: detect_people}");
  std::map<std::int64_t, std::vector<Detection>> found;
  for (const auto& frame : frames) found[frame.index] = detect(harness, frame);

  for (const auto& person : kPeople) {
    SCOPED_TRACE("frame " + std::to_string(person.frame) + ", person at " +
                 std::to_string(person.body.x) + "," + std::to_string(person.body.y));
    const cv::Point centre = (person.body.tl() + person.body.br()) / 2;
    // HOG's 64x128 window holds a person 96 pixels tall with a margin: a box around this
    // person contains its centre and is 1 to 2.5 times its height (the person at 640,240 on
    // frame 0 is found at a coarser pyramid level, 2.4 times; a box around a group is larger).
    const bool hit = std::any_of(
        found[person.frame].begin(), found[person.frame].end(), [&](const Detection& d) {
          return d.label == "person" && d.stage == "people" && d.box.contains(centre) &&
                 d.box.height >= person.body.height && 2 * d.box.height <= 5 * person.body.height;
        });
    EXPECT_TRUE(hit);
  }
}

TEST(DetectPeopleStage, EqualsHogDescriptorWithTheSameParameters) {
  const auto frames = frames_at(opencv_sample("vtest.avi"), {250});
  Frame frame = frames[0];
  StageHarness harness(
      "{name: p, type: detect_people, params: {scale: 1.1, win_stride: 16, padding: 8, "
      "hit_threshold: 0.2, group_threshold: 1}}");
  const auto actual = detect(harness, frame);

  cv::HOGDescriptor hog;
  hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  std::vector<cv::Rect> boxes;
  std::vector<double> weights;
  hog.detectMultiScale(frame.image(), boxes, weights, 0.2, {16, 16}, {8, 8}, 1.1, 1);
  std::vector<Detection> expected;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    expected.push_back(
        {boxes[i] & cv::Rect(0, 0, 768, 576), static_cast<float>(weights[i]), "person", "p"});
  }
  ASSERT_FALSE(expected.empty()) << "the frame must have people to find";
  expect_same(actual, best_first(expected));
}

TEST(DetectPeopleStage, NmsKeepsTheBestOfOverlappingWindows) {
  const auto frame = frames_at(opencv_sample("vtest.avi"), {250})[0];
  StageHarness raw("{type: detect_people, params: {group_threshold: 0}}");
  StageHarness nms("{type: detect_people, params: {group_threshold: 0, nms: 0.3}}");
  const auto all = detect(raw, frame);
  const auto kept = detect(nms, frame);
  ASSERT_GT(all.size(), kept.size()) << "ungrouped HOG windows overlap";
  ASSERT_FALSE(kept.empty());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    for (std::size_t j = i + 1; j < kept.size(); ++j) {
      const double inter = (kept[i].box & kept[j].box).area();
      const double iou = inter / (kept[i].box.area() + kept[j].box.area() - inter);
      EXPECT_LE(iou, 0.3) << kept[i].box << " " << kept[j].box;
    }
  }
  // The best window survives.
  const auto best = std::max_element(
      all.begin(), all.end(), [](const auto& a, const auto& b) { return a.score < b.score; });
  EXPECT_TRUE(std::any_of(kept.begin(), kept.end(),
                          [&](const Detection& d) { return d.box == best->box; }));
}

TEST(DetectPeopleStage, OneInstanceServesParallelCalls) {
  // Quarter-size frames keep this fast; the point is four threads in one HOGDescriptor.
  std::vector<Frame> frames;
  for (auto frame : frames_at(opencv_sample("vtest.avi"), {0, 100, 200, 250})) {
    cv::Mat small;
    cv::resize(frame.image(), small, {}, 0.6, 0.6, cv::INTER_AREA);
    frames.push_back(make_frame(small, frame.index));
  }
  StageHarness harness("{type: detect_people, params: {scale: 1.1}}");
  expect_parallel_matches_serial(harness, frames, 4);
}

TEST(DetectPeopleStage, RejectsAStrideHogCannotUse) {
  Registry registry;
  stages::register_all(registry);
  try {
    load_stage_text("{type: detect_people, params: {win_stride: 12}}", registry);
    FAIL() << "win_stride 12 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("multiple of 8"), std::string::npos) << e.what();
  }
}

// ---- detect_faces ------------------------------------------------------------------------

// OpenCV's HOG reads out of bounds on an image smaller than its 64x128 window (issue 19: a
// 64x64 clip crashed the run); such frames are skipped and counted.
TEST(DetectPeopleStage, FramesSmallerThanItsWindowAreSkippedNotCrashedOn) {
  StageHarness harness("{type: detect_people, params: {padding: 16}}");
  const std::vector<cv::Size> small = {{320, 100}, {64, 64}, {16, 16}, {63, 128}, {64, 127}};
  for (const auto size : small) {
    EXPECT_TRUE(detect(harness, make_frame(structured_image(size.width, size.height))).empty())
        << size;
  }
  EXPECT_EQ(harness.stage().counters().at("frames_too_small"), 5.0);
  // A frame of exactly one window is searched.
  detect(harness, make_frame(structured_image(64, 128)));
  EXPECT_EQ(harness.stage().counters().at("frames_too_small"), 5.0);
}

TEST(DetectFacesStage, FindsTheFaceInOpenCvsFootballPhoto) {
  // messi5.jpg, 548x342: the player's face (eyes to chin) spans x 228..262, y 88..130, read off
  // the photo magnified with a 10-pixel grid.
  const auto photo = frames_at(opencv_sample("messi5.jpg"), {0})[0];
  StageHarness harness("{name: faces, type: detect_faces}");
  const auto found = detect(harness, photo);
  const cv::Rect face(228, 88, 34, 42);
  const cv::Point centre = (face.tl() + face.br()) / 2;
  const bool hit = std::any_of(found.begin(), found.end(), [&](const Detection& d) {
    return d.label == "face" && d.stage == "faces" && d.box.contains(centre) &&
           (d.box & face).area() >= face.area() / 2 && d.box.width <= 2 * face.width;
  });
  EXPECT_TRUE(hit) << found.size() << " detections";
}

TEST(DetectFacesStage, EqualsCascadeClassifierWithTheSameParameters) {
  auto photo = frames_at(opencv_sample("messi5.jpg"), {0})[0];
  StageHarness harness(
      "{name: f, type: detect_faces, params: {scale_factor: 1.05, min_neighbors: 2, min_size: "
      "20, max_size: 200, equalize: true}}");
  const auto actual = detect(harness, photo);

  cv::CascadeClassifier cascade(
      "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml");
  cv::Mat gray;
  cv::cvtColor(photo.image(), gray, cv::COLOR_BGR2GRAY);
  cv::equalizeHist(gray, gray);
  std::vector<cv::Rect> boxes;
  std::vector<int> neighbors;
  cascade.detectMultiScale(gray, boxes, neighbors, 1.05, 2, 0, {20, 20}, {200, 200});
  std::vector<Detection> expected;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    expected.push_back({boxes[i], static_cast<float>(neighbors[i]), "face", "f"});
  }
  ASSERT_FALSE(expected.empty());
  expect_same(actual, best_first(expected));
}

TEST(DetectFacesStage, ParallelCallsMatchSerial) {
  auto photo = frames_at(opencv_sample("messi5.jpg"), {0})[0];
  cv::Mat mirrored;
  cv::flip(photo.image(), mirrored, 1);
  // Four different pictures: the photo, mirrored, and both shifted.
  std::vector<Frame> frames;
  for (const cv::Mat& image : {photo.image(), mirrored}) {
    frames.push_back(make_frame(image, static_cast<std::int64_t>(frames.size())));
    frames.push_back(make_frame(image(cv::Rect(20, 10, image.cols - 20, image.rows - 10)).clone(),
                                static_cast<std::int64_t>(frames.size())));
  }
  StageHarness harness("{type: detect_faces, params: {min_neighbors: 2}}");
  expect_parallel_matches_serial(harness, frames, 4);
}

TEST(DetectFacesStage, AMissingOrBrokenCascadeIsAConfigError) {
  Registry registry;
  stages::register_all(registry);
  const auto dir = make_temp_dir("framepipe-cascade");
  const auto junk = dir / "junk.xml";
  std::ofstream(junk) << "<?xml version=\"1.0\"?>\n<opencv_storage><x>1</x></opencv_storage>\n";
  const std::pair<std::string, std::string> cases[] = {
      {(dir / "missing.xml").string(), "no file"},
      {junk.string(), "not an OpenCV cascade"},
  };
  for (const auto& [path, message] : cases) {
    SCOPED_TRACE(path);
    try {
      load_stage_text("{type: detect_faces, params: {cascade: '" + path + "'}}", registry);
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

// ---- dnn ---------------------------------------------------------------------------------

cv::Mat classify_input() {
  cv::Mat image(8, 8, CV_8UC3);
  std::ifstream in(onnx_models() / "classify_input.bgr", std::ios::binary);
  in.read(reinterpret_cast<char*>(image.data), static_cast<std::streamsize>(image.total() * 3));
  EXPECT_TRUE(in);
  return image;
}

std::string classifier_entry(const std::string& extra = "", int top_k = 3) {
  return "{name: cls, type: dnn, params: {model: '" + (onnx_models() / "classifier.onnx").string() +
         "', labels: '" + (onnx_models() / "labels.txt").string() +
         "', width: 8, height: 8, scale: 0.02, mean: '10, 20, 30', swap_rb: true, top_k: " +
         std::to_string(top_k) + extra + "}}";
}

// numpy's softmax for the image, top 3 by probability. labels.txt names classes 0-3 only, so
// class 4 keeps its number.
void expect_top3(const std::vector<Detection>& found, cv::Size frame_size) {
  const auto expected = read_json(onnx_models() / "classify_expected.json")["probabilities"];
  ASSERT_EQ(expected.size(), 5u);
  const char* names[] = {"background", "person", "car", "dog", "4"};
  std::vector<int> order = {0, 1, 2, 3, 4};
  std::sort(order.begin(), order.end(),
            [&](int a, int b) { return expected[a].get<double>() > expected[b].get<double>(); });
  ASSERT_EQ(found.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(found[i].label, names[order[i]]);
    EXPECT_NEAR(found[i].score, expected[order[i]].get<double>(), 1e-5);
    EXPECT_EQ(found[i].box, cv::Rect({0, 0}, frame_size));
    EXPECT_EQ(found[i].stage, "cls");
  }
}

TEST(DnnStage, ClassifierOutputsMatchNumpy) {
  StageHarness harness(classifier_entry());
  expect_top3(detect(harness, make_frame(classify_input())), {8, 8});
}

TEST(DnnStage, ResizesToTheNetworksInputAndCropsWhenAsked) {
  // Each pixel doubled: halving it again (blobFromImage's linear resize) gives back the image
  // exactly, so the outputs must be numpy's.
  cv::Mat doubled;
  cv::resize(classify_input(), doubled, {16, 16}, 0, 0, cv::INTER_NEAREST);
  StageHarness stretch(classifier_entry());
  expect_top3(detect(stretch, make_frame(doubled)), {16, 16});

  // A 2:1 frame whose centre square is that picture: crop keeps the centre, stretching squeezes
  // the noise at the sides in.
  cv::Mat wide(16, 32, CV_8UC3);
  cv::randu(wide, cv::Scalar::all(0), cv::Scalar::all(256));
  doubled.copyTo(wide(cv::Rect(8, 0, 16, 16)));
  StageHarness crop(classifier_entry(", crop: true"));
  expect_top3(detect(crop, make_frame(wide)), {32, 16});
  const auto squeezed = detect(stretch, make_frame(wide));
  ASSERT_EQ(squeezed.size(), 3u);
  const auto expected = read_json(onnx_models() / "classify_expected.json")["probabilities"];
  EXPECT_GT(std::abs(squeezed[0].score - expected[2].get<double>()), 1e-3);
}

std::string detector_entry(const std::string& extra) {
  return "{name: det, type: dnn, params: {model: '" + (onnx_models() / "detector.onnx").string() +
         "', labels: '" + (onnx_models() / "labels.txt").string() +
         "', mode: detect, width: 16, height: 16, scale: 0.01" + extra + "}}";
}

std::vector<Detection> sorted(std::vector<Detection> found) {
  std::sort(found.begin(), found.end(), [](const Detection& a, const Detection& b) {
    return std::tie(a.label, a.box.x, a.box.y) < std::tie(b.label, b.box.x, b.box.y);
  });
  return found;
}

TEST(DnnStage, DetectorRowsMatchNumpyAndMapToPixels) {
  // A uniform frame of 100 scaled by 0.01: the network's input has mean 1.
  const cv::Mat grey(240, 320, CV_8UC3, cv::Scalar::all(100));
  StageHarness harness(detector_entry(", confidence: 0, nms: 0"));
  const auto found = sorted(detect(harness, make_frame(grey)));
  const auto rows = read_json(onnx_models() / "detector_expected.json")["1"];
  // Every row but the padding one (image id -1), corners times 320x240, clamped to the frame.
  struct Expected {
    int row;
    const char* label;
    cv::Rect box;
  };
  const Expected expected[] = {
      {2, "car", {38, 29, 128, 96}},     // (0.12,0.12)-(0.52,0.52): 38.4,28.8 - 166.4,124.8
      {5, "dog", {256, 168, 64, 72}},    // (0.8,0.7)-(1.2,1.1), cut at 320x240
      {0, "person", {32, 24, 128, 96}},  // (0.1,0.1)-(0.5,0.5)
      {1, "person", {38, 29, 128, 96}}, {3, "person", {192, 144, 96, 72}},  // (0.6,0.6)-(0.9,0.9)
  };
  ASSERT_EQ(found.size(), std::size(expected));
  for (std::size_t i = 0; i < found.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(found[i].label, expected[i].label);
    EXPECT_EQ(found[i].box, expected[i].box);
    EXPECT_NEAR(found[i].score, rows[expected[i].row][2].get<double>(), 1e-4);
    EXPECT_EQ(found[i].stage, "det");
  }
}

TEST(DnnStage, DetectorThresholdsAndSuppressesPerClass) {
  StageHarness harness(detector_entry(", confidence: 0.5, nms: 0.45"));
  // Mean 1: person 0.9 stays, person 0.8 overlaps it (IoU 0.82) and goes, car 0.7 has the same
  // box but another class and stays, person 0.3 is below the threshold, dog 0.6 stays.
  auto found =
      sorted(detect(harness, make_frame(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(100)))));
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].label, "car");
  EXPECT_EQ(found[1].label, "dog");
  EXPECT_EQ(found[2].label, "person");
  EXPECT_EQ(found[2].box, cv::Rect(32, 24, 128, 96));
  EXPECT_NEAR(found[2].score, 0.9, 1e-4);

  // A black frame (mean 0): the persons' confidences fall to 0.3, 0.2 and 0.1.
  found = sorted(detect(harness, make_frame(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(0)))));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].label, "car");
  EXPECT_EQ(found[1].label, "dog");
}

TEST(DnnStage, CroppedInputMapsBoxesBackToTheFrame) {
  // 640x240 cropped to a square: the network saw x 200..440 of the frame.
  StageHarness harness(detector_entry(", crop: true"));
  const auto found =
      sorted(detect(harness, make_frame(cv::Mat(240, 640, CV_8UC3, cv::Scalar::all(100)))));
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].box, cv::Rect(229, 29, 96, 96));   // car: 200 + 0.12 * 240 = 228.8 ...
  EXPECT_EQ(found[1].box, cv::Rect(392, 168, 96, 72));  // dog: 200 + 1.2 * 240 = 488; y cut at 240
  EXPECT_EQ(found[2].box, cv::Rect(224, 24, 96, 96));   // person: 200 + 0.1 * 240 = 224 ...
}

TEST(DnnStage, ParallelCallsMatchSerial) {
  std::vector<Frame> frames;
  for (int i = 0; i < 6; ++i) {
    cv::Mat image(48, 64, CV_8UC3);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(256));
    frames.push_back(make_frame(image, i));
  }
  StageHarness harness(classifier_entry("", 5));
  expect_parallel_matches_serial(harness, frames, 4);
}

TEST(DnnStage, BadModelLabelsOrMeanAreConfigErrors) {
  Registry registry;
  stages::register_all(registry);
  const auto model = (onnx_models() / "classifier.onnx").string();
  const auto not_a_model = (onnx_models() / "labels.txt").string();
  const std::pair<std::string, std::string> cases[] = {
      {"{type: dnn}", "'model' is required"},
      {"{type: dnn, params: {model: /nonexistent/net.onnx}}", "no file"},
      {"{type: dnn, params: {model: '" + not_a_model + "'}}", "cannot read"},
      {"{type: dnn, params: {model: '" + model + "', labels: /nonexistent.txt}}", "'labels'"},
      {"{type: dnn, params: {model: '" + model + "', mean: '1,x'}}", "'mean'"},
  };
  for (const auto& [entry, message] : cases) {
    SCOPED_TRACE(entry);
    try {
      load_stage_text(entry, registry);
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// ---- draw_detections and blur_detections -------------------------------------------------

Frame frame_with(cv::Mat image, std::vector<Detection> detections) {
  auto frame = make_frame(std::move(image));
  frame.detections = std::move(detections);
  return frame;
}

cv::Mat noise(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(256));
  return image;
}

TEST(DrawDetectionsStage, DrawsBoxesInTheColourOnACopy) {
  const cv::Mat input(120, 160, CV_8UC3, cv::Scalar(50, 50, 50));
  const cv::Mat pristine = input.clone();
  StageHarness harness("{type: draw_detections, params: {color: '#ff8000', labels: false}}");
  auto out = harness.push(frame_with(input, {{{40, 30, 60, 50}, 1, "person", "a"}}));
  ASSERT_TRUE(out);
  const cv::Mat& image = out->image();
  const cv::Vec3b orange(0, 128, 255);                            // #ff8000 as BGR
  EXPECT_EQ(image.at<cv::Vec3b>(30, 70), orange);                 // top edge
  EXPECT_EQ(image.at<cv::Vec3b>(79, 70), orange);                 // bottom edge (y + h - 1)
  EXPECT_EQ(image.at<cv::Vec3b>(55, 40), orange);                 // left edge
  EXPECT_EQ(image.at<cv::Vec3b>(55, 70), cv::Vec3b(50, 50, 50));  // inside
  EXPECT_EQ(image.at<cv::Vec3b>(5, 5), cv::Vec3b(50, 50, 50));    // outside
  EXPECT_EQ(cv::norm(input, pristine, cv::NORM_INF), 0.0);
}

TEST(DrawDetectionsStage, LabelsFiltersAndGrayFrames) {
  const cv::Mat gray(120, 160, CV_8UC1, cv::Scalar(50));
  StageHarness harness("{type: draw_detections, params: {from: people}}");
  auto out = harness.push(frame_with(
      gray, {{{40, 40, 60, 50}, 1.5f, "person", "people"}, {{110, 90, 30, 20}, 1, "face", "x"}}));
  ASSERT_TRUE(out);
  const cv::Mat& image = out->image();
  ASSERT_EQ(image.type(), CV_8UC3);
  const cv::Vec3b green(0, 255, 0);
  // The label tab sits above the box: green, with dark text in it.
  const cv::Mat tab = image(cv::Rect(40, 24, 60, 14));
  cv::Mat green_px, ink;
  cv::inRange(tab, cv::Scalar(0, 255, 0), cv::Scalar(0, 255, 0), green_px);
  cv::inRange(tab, cv::Scalar(0, 0, 0), cv::Scalar(40, 127, 40), ink);  // darker than green
  EXPECT_GT(cv::countNonZero(green_px), 300) << "no label tab";
  EXPECT_GT(cv::countNonZero(ink), 40) << "no label text";
  EXPECT_EQ(image.at<cv::Vec3b>(40, 70), green);
  // The other stage's detection is not drawn.
  EXPECT_EQ(image.at<cv::Vec3b>(90, 125), cv::Vec3b(50, 50, 50));
}

TEST(BlurDetectionsStage, GaussianBlursOnlyTheGrownBox) {
  const cv::Mat input = noise(160, 120);
  const cv::Mat pristine = input.clone();
  StageHarness harness("{type: blur_detections, params: {strength: 0.1, grow: 0.5}}");
  auto out = harness.push(frame_with(input, {{{50, 40, 40, 20}, 1, "face", "f"}}));
  ASSERT_TRUE(out);
  // grow 0.5: 10 more pixels on each side, 5 above and below.
  const cv::Rect grown(40, 35, 60, 30);
  cv::Mat expected = input.clone();
  cv::Mat region = expected(grown);
  cv::GaussianBlur(input(grown).clone(), region, {0, 0}, 3.0, 3.0);  // sigma 0.1 * 30
  EXPECT_EQ(cv::norm(out->image(), expected, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(input, pristine, cv::NORM_INF), 0.0);
}

TEST(BlurDetectionsStage, PixelatesIntoFlatCellsAndClampsToTheFrame) {
  const cv::Mat input = noise(160, 120);
  StageHarness harness("{type: blur_detections, params: {method: pixelate, blocks: 4, grow: 0}}");
  // 40x40 box, 4 cells across: 10x10 cells of their mean colour. The second box sticks out of
  // the frame at the bottom right.
  auto out = harness.push(frame_with(
      input, {{{20, 20, 40, 40}, 1, "face", "f"}, {{140, 100, 50, 50}, 1, "face", "f"}}));
  ASSERT_TRUE(out);
  const cv::Mat& image = out->image();
  for (int cy = 0; cy < 4; ++cy) {
    for (int cx = 0; cx < 4; ++cx) {
      const cv::Rect cell(20 + 10 * cx, 20 + 10 * cy, 10, 10);
      const cv::Scalar mean = cv::mean(input(cell));
      cv::Mat flat;
      cv::inRange(image(cell), image.at<cv::Vec3b>(cell.y, cell.x),
                  image.at<cv::Vec3b>(cell.y, cell.x), flat);
      EXPECT_EQ(cv::countNonZero(flat), 100) << cell;
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(image.at<cv::Vec3b>(cell.y, cell.x)[c], mean[c], 1.0) << cell;
      }
    }
  }
  EXPECT_GT(
      cv::norm(image(cv::Rect(140, 100, 20, 20)), input(cv::Rect(140, 100, 20, 20)), cv::NORM_INF),
      0.0);
  // Everything outside the two boxes is untouched.
  cv::Mat mask(input.size(), CV_8UC1, cv::Scalar(255));
  mask(cv::Rect(20, 20, 40, 40)) = 0;
  mask(cv::Rect(140, 100, 20, 20)) = 0;
  EXPECT_EQ(cv::norm(image, input, cv::NORM_INF, mask), 0.0);
}

// The other detectors on frames far smaller than what they look for: no detections, no crash.
TEST(DetectorStages, TinyFramesGiveNothingAndDoNotCrash) {
  StageHarness faces("{type: detect_faces}");
  StageHarness classifier(classifier_entry());
  StageHarness detector(detector_entry(", confidence: 0"));
  for (const cv::Size size : {cv::Size(2, 2), cv::Size(16, 16), cv::Size(320, 2)}) {
    const cv::Mat image = structured_image(size.width, size.height);
    EXPECT_TRUE(detect(faces, make_frame(image)).empty()) << size;
    // The network sees the frame resized to its input, whatever the frame's size.
    EXPECT_EQ(detect(classifier, make_frame(image)).size(), 3u) << size;
    for (const auto& found : detect(detector, make_frame(image))) {
      EXPECT_TRUE((cv::Rect({0, 0}, size) & found.box) == found.box) << size;
    }
  }
}

}  // namespace
}  // namespace framepipe::testing
