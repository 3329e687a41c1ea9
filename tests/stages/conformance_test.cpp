// What every registered stage type promises, checked for each type the registry holds, so a new
// stage gets these checks by registering and its own tests are only about its behaviour:
// - its example (what `framepipe stages` tells users to paste) is a stage entry that validates;
// - its declared kind is its class (the engine drives it through that base class);
// - it never writes into the pixels of a frame it receives: branches share pixel memory;
// - abort() after some frames leaves nothing in the output folder, not even a hidden temporary;
// - finish() leaves exactly the files outputs() reports, none of them empty.
// Each stage runs its own example. What an example needs from outside the process (a model file,
// a server) is provided below, per type, as the stage's own tests do.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <set>

#include "pipeline/config.h"
#include "stages/register_all.h"
#include "tests/support/loopback_servers.h"
#include "tests/support/media.h"
#include "tests/support/onnx_models.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> registered_types() {
  Registry registry;
  stages::register_all(registry);
  std::vector<std::string> types;
  for (const auto* info : registry.all()) types.push_back(info->type);
  return types;
}

// Large enough for detect_people's 64x128 window; small enough for denoise to take 0.3 s a frame.
constexpr int kClipWidth = 320;
constexpr int kClipHeight = 240;
// Two frames reach a stateful stage's frame-to-frame path; a third follows it.
constexpr int kFrames = 3;

fs::path conformance_clip() {
  return make_clip("conformance-320x240-3f.mp4",
                   "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 3 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

// What a stage's example needs to run here (files, a server, parameters that fit the test's
// frames), and what a check must allow for one stage, each with the reason.
struct Environment {
  // Files the example names relative to the working directory -> where the test gets them.
  std::map<std::string, fs::path> workdir_files;
  // Parameters replaced for running the example (not for validating it).
  std::map<std::string, std::string> run_params;
  // Files a stage keeps across the files of a batch, left by abort() and not outputs.
  std::set<fs::path> shared_files;
  // Started when the example first runs, and its URL put in this parameter.
  std::string server_url_param;
  std::unique_ptr<HttpTestServer> server;
};

Environment environment_for(const std::string& type) {
  Environment environment;
  if (type == "crop") {
    // The example cuts 640x360 at (100, 50): more than the test's frames hold.
    environment.run_params = {{"width", "160"}, {"height", "120"}};
  } else if (type == "dnn") {
    // The test's detector has the example's SSD output layout but takes 16x16 pictures.
    environment.workdir_files = {{"ssd.onnx", onnx_models() / "detector.onnx"},
                                 {"classes.txt", onnx_models() / "labels.txt"}};
    environment.run_params = {{"width", "16"}, {"height", "16"}};
  } else if (type == "post_events") {
    environment.server_url_param = "url";
  } else if (type == "write_detections_db") {
    // One database holds every file's rows: abort() deletes the file's rows (asserted in
    // write_detections_db_test.cpp), not the database the other files share.
    environment.shared_files = {"people.sqlite"};
  }
  return environment;
}

// A YAML stage entry with some parameters set to other values.
std::string with_params(const std::string& entry,
                        const std::map<std::string, std::string>& params) {
  if (params.empty()) return entry;
  YAML::Node node = YAML::Load(entry);
  for (const auto& [name, value] : params) node["params"][name] = value;
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

// Frame `index` of a short scene in which a box moves, carrying what detectors and measuring
// stages attach, so sinks have something to write.
Frame scene_frame(int index, bool gray) {
  cv::Mat image = structured_image(kClipWidth, kClipHeight);
  cv::rectangle(image, cv::Rect(60 + 40 * index, 40, 100, 150), {30, 60, 250}, cv::FILLED);
  if (gray) image = gray_of(image);
  Frame frame = make_frame(image, index);
  frame.source = conformance_clip().string();
  frame.detections = {{{70 + 40 * index, 50, 64, 128}, 0.75f, "person", "people"}};
  frame.scalars["motion"] = 0.25;
  return frame;
}

std::vector<Frame> scene(bool gray = false) {
  std::vector<Frame> frames;
  for (int index = 0; index < kFrames; ++index) frames.push_back(scene_frame(index, gray));
  return frames;
}

// What is under `dir`, relative to it, except `shared`: everything (files, hidden files,
// folders), or only what is not a folder.
std::set<fs::path> under(const fs::path& dir, const std::set<fs::path>& shared, bool folders) {
  std::set<fs::path> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto relative = fs::relative(entry.path(), dir);
    if (shared.contains(relative) || (!folders && entry.is_directory())) continue;
    found.insert(relative);
  }
  return found;
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    stages::register_all(registry_);
    info_ = registry_.find(GetParam());
    ASSERT_NE(info_, nullptr);
    dir_ = make_temp_dir("framepipe-conformance");
    out_ = dir_ / "out";
    fs::create_directories(out_);
    fs::create_directories(dir_ / "work");
    environment_ = environment_for(info_->type);
    for (const auto& [name, source] : environment_.workdir_files) {
      fs::copy_file(source, dir_ / "work" / name);
    }
    // Examples name files relative to where framepipe runs.
    previous_workdir_ = fs::current_path();
    fs::current_path(dir_ / "work");
  }
  void TearDown() override {
    if (!previous_workdir_.empty()) fs::current_path(previous_workdir_);
    environment_.server.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // The example without its list marker: "- { name: blur, ... }" -> "{ name: blur, ... }".
  std::string example_entry() const { return info_->example.substr(info_->example.find('-') + 1); }
  std::string run_entry() {
    if (!environment_.server_url_param.empty() && !environment_.server) {
      environment_.server = std::make_unique<HttpTestServer>(dir_);
      environment_.run_params[environment_.server_url_param] = environment_.server->url("/events");
    }
    return with_params(example_entry(), environment_.run_params);
  }
  RunContext context() const {
    return RunContext{.input_path = conformance_clip().string(),
                      .output_dir = out_,
                      .overwrite = false,
                      .metrics = nullptr,
                      .stage_name = load_stage_text(example_entry(), registry_).name};
  }
  std::set<fs::path> left_in_output_folder(bool folders) const {
    return under(out_, environment_.shared_files, folders);
  }

  Registry registry_;
  const StageInfo* info_ = nullptr;
  fs::path dir_;
  fs::path out_;
  fs::path previous_workdir_;
  Environment environment_;
};

TEST_P(Conformance, ExampleIsAStageEntryThatValidates) {
  ASSERT_TRUE(info_->example.starts_with("- "))
      << "an example is a list item, to paste under stages:: " << info_->example;
  const auto stage = load_stage_text(example_entry(), registry_);
  EXPECT_EQ(stage.type, info_->type);
  EXPECT_EQ(stage.info, info_);
}

TEST_P(Conformance, DeclaredKindIsItsClass) {
  const auto config = load_stage_text(example_entry(), registry_);
  const auto stage = info_->create(StageSetup{config.name, config.params});
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(dynamic_cast<SourceStage*>(stage.get()) != nullptr, info_->kind == StageKind::source);
  EXPECT_EQ(dynamic_cast<TransformStage*>(stage.get()) != nullptr,
            info_->kind == StageKind::transform);
  EXPECT_EQ(dynamic_cast<SinkStage*>(stage.get()) != nullptr, info_->kind == StageKind::sink);
  EXPECT_TRUE(!info_->prepares || info_->kind == StageKind::sink)
      << "only a sink has a prepare() for the engine to run";
}

// A sink whose prepare() does work must say so (StageInfo::prepares), or the engine never calls
// it and the work falls to consume() on the stage's IO threads, outside the oneTBB arena.
TEST_P(Conformance, ASinkThatPreparesFramesDeclaresIt) {
  if (info_->kind != StageKind::sink) GTEST_SKIP() << "only a sink prepares frames";
  StageHarness harness(run_entry(), context());
  auto frame = scene().front();
  sink_of(harness).prepare(frame);
  EXPECT_EQ(frame.prepared != nullptr, info_->prepares)
      << "prepare() " << (frame.prepared ? "left" : "did not leave") << " a result in the frame";
  harness.abort();
}

TEST_P(Conformance, NeverWritesIntoTheInputPixels) {
  if (info_->kind == StageKind::source) GTEST_SKIP() << "a source receives no frames";
  // Colour frames, which every stage takes, then gray ones (after a grayscale stage), which a
  // stage may refuse with an error but must not write into either.
  for (const bool gray : {false, true}) {
    SCOPED_TRACE(gray ? "gray frames" : "BGR frames");
    StageHarness harness(run_entry(), context());
    for (auto& frame : scene(gray)) {
      const cv::Mat received = frame.image();
      const cv::Mat pristine = received.clone();
      if (gray) {
        try {
          harness.push(frame);
        } catch (const std::exception&) {
        }
      } else {
        ASSERT_NO_THROW(harness.push(frame));
      }
      EXPECT_EQ(cv::norm(received, pristine, cv::NORM_INF), 0.0) << "frame " << frame.index;
    }
    harness.abort();
  }
}

TEST_P(Conformance, AbortLeavesNothingInTheOutputFolder) {
  StageHarness harness(run_entry(), context());
  run_to_end(harness, scene(), /*abort=*/true);
  EXPECT_EQ(left_in_output_folder(/*folders=*/true), std::set<fs::path>{});
  EXPECT_EQ(harness.stage().outputs(), std::vector<fs::path>{});
}

TEST_P(Conformance, FinishLeavesExactlyTheOutputsItReportsNoneEmpty) {
  StageHarness harness(run_entry(), context());
  run_to_end(harness, scene(), /*abort=*/false);
  std::set<fs::path> reported;
  for (const auto& path : harness.stage().outputs()) {
    EXPECT_TRUE(fs::is_regular_file(path) && fs::file_size(path) > 0) << path;
    reported.insert(fs::relative(path, out_));
  }
  EXPECT_EQ(left_in_output_folder(/*folders=*/false), reported);
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredStage, Conformance, ::testing::ValuesIn(registered_types()),
                         [](const auto& type) { return type.param; });

}  // namespace
}  // namespace framepipe::testing
