// A batch's images through one graph (pipeline/item.h), through the framepipe binary: each
// image is still a file of its own in batch.json and the manifest, with no report folder of its
// own (the graph's one report covers them all); outputs are cv::imwrite's bytes of the direct
// OpenCV calls; a damaged JPEG fails alone; outputs reach their final names in groups, whole,
// and only those are in the manifest, after a Ctrl-C and after a SIGKILL;
// --resume skips every done image, also past a manifest saved in groups.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;

constexpr const char* kEdgesConfig =
    "pipeline: {files_in_parallel: 2}\n"
    "stages:\n"
    "  - {type: decode}\n"
    "  - {type: gaussian_blur, concurrency: unlimited, params: {ksize: 5, sigma: 2}}\n"
    "  - {type: canny, concurrency: unlimited, params: {low: 50, high: 150}}\n"
    "  - {type: write_images, concurrency: 2}\n";

class ImageItemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-image-items");
    in_ = dir_ / "photos";
    out_ = dir_ / "out";
    fs::create_directories(in_);
    std::ofstream(dir_ / "edges.yaml") << kEdgesConfig;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `count` different 64x48 pictures (testsrc2 moves) as JPEGs, 00.jpg … in `folder`.
  void jpegs(const fs::path& folder, int count) {
    fs::create_directories(folder);
    capture("ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v " +
            std::to_string(count) + " -start_number 0 -q:v 3 " +
            shell_quote((folder / "%02d.jpg").string()));
  }

  CommandResult run(const std::string& args = "") {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote((dir_ / "edges.yaml").string()) +
                     " -i " + shell_quote(in_.string()) + " -o " + shell_quote(out_.string()) +
                     " --quiet " + args + " 2>&1");
  }

  // batch.json's entries by their relative name.
  std::map<std::string, nlohmann::json> entries() const {
    std::map<std::string, nlohmann::json> by_name;
    const auto batch = read_json(out_ / "report/batch.json");
    for (const auto& entry : batch["files"]) by_name[entry["relative"].get<std::string>()] = entry;
    return by_name;
  }

  fs::path dir_, in_, out_;
};

std::string reference_jpeg(const fs::path& input) {
  const cv::Mat image = cv::imread(input.string());
  cv::Mat blurred, edges;
  cv::GaussianBlur(image, blurred, cv::Size(5, 5), 2, 2);
  cv::Canny(blurred, edges, 50, 150);
  std::vector<unsigned char> bytes;
  EXPECT_TRUE(cv::imencode(".jpg", edges, bytes));
  return {bytes.begin(), bytes.end()};
}

TEST_F(ImageItemsTest, EachImageIsAnEntryOfBatchJsonWithItsOutputAndNoReportFolderOfItsOwn) {
  jpegs(in_, 4);
  jpegs(in_ / "sub", 3);
  const auto whole = read_text(in_ / "sub/02.jpg");
  std::ofstream(in_ / "sub/02.jpg", std::ios::binary) << whole.substr(0, whole.size() / 2);

  const auto result = run();
  EXPECT_EQ(result.exit_code, 1) << result.output;
  // One line, naming the damaged file and the cause.
  std::size_t lines_naming_it = 0;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("sub/02.jpg") == std::string::npos) continue;
    ++lines_naming_it;
    EXPECT_NE(line.find("damaged JPEG"), std::string::npos) << line;
  }
  EXPECT_EQ(lines_naming_it, 1u) << result.output;

  const auto files = entries();
  ASSERT_EQ(files.size(), 7u);
  for (const auto& [name, entry] : files) {
    if (name == "sub/02.jpg") {
      EXPECT_EQ(entry["status"], "failed");
      EXPECT_NE(entry["error"].get<std::string>().find("damaged JPEG"), std::string::npos);
      EXPECT_TRUE(entry["outputs"].empty());
      EXPECT_FALSE(fs::exists(out_ / name)) << name;
      continue;
    }
    EXPECT_EQ(entry["status"], "ok") << name;
    EXPECT_EQ(entry["frames"], 1) << name;
    EXPECT_TRUE(entry["report"].is_null()) << name;
    ASSERT_EQ(entry["outputs"].size(), 1u) << name;
    EXPECT_EQ(fs::path(entry["outputs"][0].get<std::string>()), out_ / name);
    // The bytes cv::imwrite writes for the direct OpenCV calls' edges.
    EXPECT_EQ(read_text(out_ / name), reference_jpeg(in_ / name)) << name;
  }
  // The report folder holds the batch's pages and one folder, the graph's report: its figures
  // cover the 6 images that were read (one frame and one call of each stage per image).
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(out_ / "report"))
    if (entry.is_directory()) folders.push_back(entry.path().filename());
  EXPECT_EQ(folders, std::vector<fs::path>{"images"});
  const auto batch = read_json(out_ / "report/batch.json");
  ASSERT_TRUE(batch["images_run"].is_object()) << batch.dump();
  EXPECT_EQ(batch["images_run"]["report"], "images");
  EXPECT_EQ(batch["images_run"]["frames"], 6);
  const auto report = read_json(out_ / "report/images/report.json");
  EXPECT_EQ(report["frames"], 6);
  std::map<std::string, std::int64_t> calls;
  for (const auto& stage : report["stages"]) calls[stage["type"]] = stage["items"];
  EXPECT_EQ(calls["gaussian_blur"], 6);
  EXPECT_EQ(calls["canny"], 6);
  EXPECT_EQ(calls["write_images"], 6);
  // The batch's stage sums are that report's: the images are one file of it.
  for (const auto& stage : batch["stages"]) {
    SCOPED_TRACE(stage.dump());
    EXPECT_EQ(stage["files"], 1);
    if (stage["type"] != "decode") {
      EXPECT_EQ(stage["items"], 6);
    }
  }
  // The graph's run holds the images' frames and time: the batch's fps series adds up to the 6
  // frames once, and the one graph is the one slot in use, busy at most the whole batch.
  double series_frames = 0;
  for (const auto& fps : batch["series"]["fps"])
    series_frames += fps.get<double>() * batch["series"]["bin_s"].get<double>();
  EXPECT_NEAR(series_frames, 6.0, 1e-6) << batch["series"];
  const auto conclusions = batch["conclusions"].dump();
  const std::string slots_use = "1 file slot was busy ";
  const auto slots_at = conclusions.find(slots_use);
  ASSERT_NE(slots_at, std::string::npos) << conclusions;
  EXPECT_LE(std::stod(conclusions.substr(slots_at + slots_use.size())), 100.0) << conclusions;
  for (const auto& advice : batch["advice"]) EXPECT_NE(advice["key"], "pipeline.files_in_parallel");
  ASSERT_EQ(batch["timeline"].size(), 8u) << "each image and the graph";
  for (const auto& row : batch["timeline"])
    EXPECT_EQ(row.value("item", false), row["file"] != "images") << row;
  // batch.html draws the graph's bar, which covers its images' time, and not theirs.
  const auto html = read_text(out_ / "report/batch.html");
  std::size_t bars = 0;
  for (auto at = html.find("<rect "); at != std::string::npos; at = html.find("<rect ", at + 1))
    ++bars;
  EXPECT_EQ(bars, 1u);
  EXPECT_NE(html.find("<title>images: ok, 6 frames"), std::string::npos);
  EXPECT_NE(html.find("href=\"images/report.html\""), std::string::npos);
  // The manifest records each done image with its output, and not the failed one.
  const auto manifest = read_json(out_ / ".framepipe-manifest.json")["files"];
  EXPECT_EQ(manifest.size(), 6u);
  EXPECT_FALSE(manifest.contains("sub/02.jpg"));
  EXPECT_EQ(manifest["sub/01.jpg"]["outputs"][0], (out_ / "sub/01.jpg").string());
}

// An input folder already named `images`: the graph's report goes to `images-2`, not over the
// report folders of that folder's files.
TEST_F(ImageItemsTest, TheGraphsReportTakesAFreeNameBesideAnInputFolderNamedImages) {
  jpegs(in_ / "images", 2);
  const auto result = run();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["images_run"]["report"], "images-2");
  EXPECT_EQ(read_json(out_ / "report/images-2/report.json")["frames"], 2);
  EXPECT_FALSE(fs::exists(out_ / "report/images"));
}

// 250 images: more than one group of manifest records (saved every 100 or every second).
TEST_F(ImageItemsTest, ResumeSkipsEveryDoneImageOfAManifestSavedInGroups) {
  jpegs(in_, 50);
  for (int copy = 1; copy < 5; ++copy) {
    fs::create_directories(in_ / ("copy" + std::to_string(copy)));
    for (int i = 0; i < 50; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "%02d.jpg", i);
      fs::copy_file(in_ / name, in_ / ("copy" + std::to_string(copy)) / name);
    }
  }
  const auto first = run();
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(read_json(out_ / ".framepipe-manifest.json")["files"].size(), 250u);

  fs::remove(out_ / "copy3/07.jpg");  // an output gone: that image is redone
  const auto resumed = run("--resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto totals = read_json(out_ / "report/batch.json")["totals"];
  EXPECT_EQ(totals["skipped"].get<int>(), 249);
  EXPECT_EQ(totals["ok"].get<int>(), 1);
  EXPECT_EQ(read_text(out_ / "copy3/07.jpg"), reference_jpeg(in_ / "copy3/07.jpg"));
}

// What write_images makes of `input` when no stage changes it: cv::imwrite's bytes of the
// decoded picture.
std::string unchanged_jpeg(const fs::path& input) {
  std::vector<unsigned char> bytes;
  EXPECT_TRUE(cv::imencode(".jpg", cv::imread(input.string()), bytes));
  return {bytes.begin(), bytes.end()};
}

// The final name a hidden output waits for: ".07.partial-PID-N.jpg" -> "07.jpg".
std::string final_name_of_hidden(const fs::path& hidden) {
  const auto name = hidden.filename().string();
  return name.substr(1, name.find(".partial-") - 1) + hidden.extension().string();
}

// A pipeline that writes each image unchanged after `ms` milliseconds, two images at a time:
// slow enough to stop it in the middle.
void write_slow_config(const fs::path& path, int ms) {
  std::ofstream(path) << "stages:\n"
                         "  - {type: decode}\n"
                         "  - {type: sleep, concurrency: 2, params: {ms: " +
                             std::to_string(ms) +
                             "}}\n"
                             "  - {type: write_images}\n";
}

// Ctrl-C in the middle of a folder's images, while done images wait under hidden names for
// their group: those are put in place (Ctrl-C commits what is done), recorded and reported ok;
// the rest are cancelled with nothing left of them; --resume does only the rest.
TEST_F(ImageItemsTest, InterruptedImagesKeepWhatIsDoneAndResumeDoesTheRest) {
  jpegs(in_, 60);
  // 100 ms per image, two at a time: about 3 s for the 60; a group is due every second.
  write_slow_config(dir_ / "edges.yaml", 100);
  const auto pid = reliability::spawn_framepipe(
      {"run", (dir_ / "edges.yaml").string(), "-i", in_.string(), "-o", out_.string(), "--quiet"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(reliability::wait_for_sigint_handler(pid, std::chrono::seconds(30)));
  std::set<std::string> waiting;  // done images whose outputs wait for their group
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (waiting.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    waiting.clear();
    for (const auto& hidden : reliability::hidden_leftovers(out_)) {
      waiting.insert(final_name_of_hidden(hidden));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGINT);
  EXPECT_EQ(reliability::wait_bounded(pid, std::chrono::seconds(60)), 130);
  ASSERT_GE(waiting.size(), 3u);

  const auto files = entries();
  ASSERT_EQ(files.size(), 60u);
  int ok = 0;
  for (const auto& [name, entry] : files) {
    const bool done = entry["status"] == "ok";
    ok += done;
    if (!done) {
      EXPECT_EQ(entry["status"], "cancelled") << name;
      EXPECT_EQ(waiting.count(name), 0u) << name << " was written but not put in place";
    }
    EXPECT_EQ(fs::exists(out_ / name), done) << name;
    if (done) {
      EXPECT_EQ(read_text(out_ / name), unchanged_jpeg(in_ / name)) << name;
    }
  }
  EXPECT_LT(ok, 60) << "the interrupt came too late to test anything";
  EXPECT_EQ(read_json(out_ / ".framepipe-manifest.json")["files"].size(),
            static_cast<std::size_t>(ok));
  EXPECT_TRUE(reliability::hidden_leftovers(out_).empty());

  const auto resumed = run("--resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto totals = read_json(out_ / "report/batch.json")["totals"];
  EXPECT_EQ(totals["skipped"].get<int>(), ok);
  EXPECT_EQ(totals["ok"].get<int>(), 60 - ok);
  for (const auto& [name, entry] : entries()) {
    EXPECT_EQ(read_text(out_ / name), unchanged_jpeg(in_ / name)) << name;
  }
}

// SIGKILL in the middle of a folder's images, just after a group was committed: every file at
// a final name is whole (the bytes a finished run writes), the manifest lists exactly those,
// what was not committed is only under hidden names, and --resume does the rest.
TEST_F(ImageItemsTest, KilledMidBatchLeavesOnlyWholeRecordedOutputsAndResumeDoesTheRest) {
  jpegs(in_, 60);
  write_slow_config(dir_ / "edges.yaml", 100);
  const auto pid = reliability::spawn_framepipe(
      {"run", (dir_ / "edges.yaml").string(), "-i", in_.string(), "-o", out_.string(), "--quiet"});
  ASSERT_GT(pid, 0);
  const auto manifest_path = out_ / ".framepipe-manifest.json";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(manifest_path) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  EXPECT_EQ(reliability::wait_bounded(pid, std::chrono::seconds(60)), std::nullopt);
  ASSERT_TRUE(fs::exists(manifest_path)) << "no group was committed within 60 s";

  std::set<std::string> at_final_names;
  for (const auto& file : reliability::files_under(out_)) {
    const auto name = file.filename().string();
    if (name.starts_with(".")) continue;
    at_final_names.insert(name);
    EXPECT_EQ(read_text(file), unchanged_jpeg(in_ / name)) << name;
  }
  std::set<std::string> recorded;
  const auto manifest = read_json(manifest_path);
  for (const auto& [key, entry] : manifest["files"].items()) {
    recorded.insert(key);
    EXPECT_EQ(entry["outputs"][0], (out_ / key).string());
  }
  EXPECT_FALSE(recorded.empty());
  EXPECT_EQ(recorded, at_final_names);
  EXPECT_LT(at_final_names.size(), 60u) << "the kill came too late to test anything";

  const auto resumed = run("--resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto totals = read_json(out_ / "report/batch.json")["totals"];
  EXPECT_EQ(totals["skipped"].get<std::size_t>(), recorded.size());
  EXPECT_EQ(totals["ok"].get<std::size_t>(), 60 - recorded.size());
  ASSERT_EQ(entries().size(), 60u);
  for (const auto& [name, entry] : entries()) {
    EXPECT_EQ(read_text(out_ / name), unchanged_jpeg(in_ / name)) << name;
  }
}

// An image that fails in another branch after write_images wrote it: its image never reaches
// its final name (it was waiting under a hidden name and is removed), the others are placed.
TEST_F(ImageItemsTest, AnImageThatFailsAfterItWasWrittenLeavesNoOutput) {
  jpegs(in_, 5);
  std::ofstream(dir_ / "edges.yaml") << "stages:\n"
                                        "  - {name: decode, type: decode}\n"
                                        "  - {name: save, type: write_images, input: decode}\n"
                                        "  - {name: boom, type: fail, input: decode, params: "
                                        "{at_frame: 2, message: planted}}\n"
                                        "  - {name: drop, type: discard, input: boom}\n";
  const auto result = run();
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const auto files = entries();
  ASSERT_EQ(files.size(), 5u);
  int failed = 0;
  for (const auto& [name, entry] : files) {
    if (entry["status"] == "failed") {
      ++failed;
      EXPECT_NE(entry["error"].get<std::string>().find("planted"), std::string::npos);
      EXPECT_FALSE(fs::exists(out_ / name)) << name;
      continue;
    }
    EXPECT_EQ(entry["status"], "ok") << name;
    EXPECT_EQ(read_text(out_ / name), unchanged_jpeg(in_ / name)) << name;
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(read_json(out_ / ".framepipe-manifest.json")["files"].size(), 4u);
  EXPECT_TRUE(reliability::hidden_leftovers(out_).empty());
}

}  // namespace
}  // namespace framepipe::testing
