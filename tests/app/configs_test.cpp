// The ready configs in configs/, each run end to end through the framepipe binary on a real or
// generated clip, their outputs checked with ffprobe, cv::imread and a JSON parser.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "tests/support/media.h"
#include "tests/support/opencv_samples.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kConfigs = fs::path(FRAMEPIPE_SOURCE_DIR) / "configs";

class ConfigsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-configs"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs configs/<name> on `input` into dir_; returns the CLI's output.
  std::string run(const std::string& name, const fs::path& input) {
    const auto result =
        run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " +
                  shell_quote((kConfigs / name).string()) + " --quiet --input " +
                  shell_quote(input.string()) + " --output " + shell_quote(dir_.string()));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  }
  fs::path dir_;
};

// The first frame of a video, decoded by the ffmpeg CLI.
cv::Mat first_frame(const fs::path& video, const fs::path& dir) {
  const auto png = dir / (video.stem().string() + "-first.png");
  capture("ffmpeg -nostdin -v error -y -i " + shell_quote(video.string()) + " -frames:v 1 " +
          shell_quote(png.string()));
  return cv::imread(png.string());
}

// How much fine detail a picture has: the spread of its gray Laplacian. Blurring lowers it.
double laplacian_detail(const cv::Mat& image) {
  cv::Mat gray, laplacian;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  cv::Laplacian(gray, laplacian, CV_64F);
  cv::Scalar mean, deviation;
  cv::meanStdDev(laplacian, mean, deviation);
  return deviation[0];
}

TEST_F(ConfigsTest, EveryShippedConfigValidates) {
  for (const auto& entry : fs::directory_iterator(kConfigs)) {
    SCOPED_TRACE(entry.path().string());
    const auto result = run_shell(shell_quote(FRAMEPIPE_BINARY) + " validate " +
                                  shell_quote(entry.path().string()));
    EXPECT_EQ(result.exit_code, 0) << result.output;
  }
}

TEST_F(ConfigsTest, PeopleOverlayDrawsAndListsThePeopleInOpenCvsWalkingVideo) {
  // The first 2 s (20 frames) of vtest.avi: HOG takes ~0.2 s of CPU a frame.
  const auto clip =
      make_clip("vtest-2s.mp4", "-i " + shell_quote(opencv_sample("vtest.avi").string()) +
                                    " -t 2 -c:v libx264 -preset ultrafast "
                                    "-pix_fmt yuv420p");
  const auto output = run("people-overlay.yaml", clip);
  const auto video = dir_ / "vtest-2s-people.mp4";
  const auto jsonl = dir_ / "vtest-2s-people.jsonl";
  EXPECT_NE(output.find("output: " + video.string()), std::string::npos) << output;
  EXPECT_NE(output.find("output: " + jsonl.string()), std::string::npos) << output;

  EXPECT_EQ(frame_count(video), 20);
  EXPECT_EQ(probe_video(video, "stream=width,height"), "768,576");
  const auto lines = read_json_lines(jsonl);
  ASSERT_FALSE(lines.empty());
  std::int64_t previous = 0;
  for (const auto& line : lines) {
    EXPECT_EQ(line["label"], "person");
    EXPECT_EQ(line["stage"], "people");
    EXPECT_GE(line["frame"].get<std::int64_t>(), previous) << "lines in frame order";
    previous = line["frame"];
  }
  EXPECT_GE(previous, 15) << "people are found all through the clip";

  // Frame 0: the man left of the lamp post (body 254..282 x 220..305, checked by eye) is in a
  // box, and the video shows that box's top edge in green where the source has none.
  const cv::Point man(268, 262);
  const json* box = nullptr;
  for (const auto& line : lines) {
    const auto& b = line["box"];
    if (line["frame"] == 0 &&
        cv::Rect(b["x"].get<int>(), b["y"].get<int>(), b["w"].get<int>(), b["h"].get<int>())
            .contains(man))
      box = &b;
  }
  ASSERT_NE(box, nullptr) << "no box around the man on frame 0";
  const cv::Rect edge((*box)["x"].get<int>() + 4, (*box)["y"].get<int>(),
                      (*box)["w"].get<int>() - 8, 2);
  const auto greenness = [&](const cv::Mat& image) {
    const cv::Scalar mean = cv::mean(image(edge));
    return mean[1] - (mean[0] + mean[2]) / 2;
  };
  EXPECT_GT(greenness(first_frame(video, dir_)), 60);
  EXPECT_LT(greenness(first_frame(clip, dir_)), 30);
}

TEST_F(ConfigsTest, FacesAnonymizeBlursTheFaceAndNothingFarFromIt) {
  // One second of OpenCV's Megamind.avi from 1 s in: a woman facing the camera, her face (eyes
  // to chin) within x 300..400, y 240..340 on the first frame, checked by eye.
  const auto clip = make_clip("megamind-1s.mp4",
                              "-ss 1 -i " + shell_quote(opencv_sample("Megamind.avi").string()) +
                                  " -t 1 -an -c:v libx264 -preset ultrafast "
                                  "-pix_fmt yuv420p");
  run("faces-anonymize.yaml", clip);
  const auto video = dir_ / "megamind-1s-anonymized.mp4";
  EXPECT_EQ(frame_count(video), frame_count(clip));

  const auto before = first_frame(clip, dir_);
  const auto after = first_frame(video, dir_);
  ASSERT_EQ(before.size(), after.size());
  // Detail (Laplacian energy) in the face drops; the raised glass at the lower left, far from
  // any face, only differs by re-encoding noise.
  const cv::Rect face(300, 240, 100, 100);
  EXPECT_LT(laplacian_detail(after(face)), 0.3 * laplacian_detail(before(face)));
  const cv::Rect glass(170, 320, 60, 180);
  EXPECT_LT(cv::norm(after(glass), before(glass), cv::NORM_L1) / (glass.area() * 3), 4.0);
}

TEST_F(ConfigsTest, MotionIndexWritesOneScoreALineAndNoVideo) {
  // 1 s of flat gray, then 1 s of testsrc2 (moving): 50 frames at 25 fps.
  const auto clip = make_clip("still-then-moving.mp4",
                              "-f lavfi -i 'color=c=gray:s=320x240:r=25:d=1[a];"
                              "testsrc2=s=320x240:r=25:d=1[b];[a][b]concat=n=2:v=1:a=0[out0]' "
                              "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
  run("motion-index.yaml", clip);
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.is_regular_file()) files.insert(entry.path().filename().string());
  }
  EXPECT_EQ(files, std::set<std::string>{"still-then-moving-motion.jsonl"});

  const auto lines = read_json_lines(dir_ / "still-then-moving-motion.jsonl");
  ASSERT_EQ(lines.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(lines[i]["frame"], i);
    EXPECT_NEAR(lines[i]["time_s"].get<double>(), i / 25.0, 1e-6);
    EXPECT_EQ(lines[i]["detections"], json::array());
    const double motion = lines[i]["scalars"]["motion"];
    if (i < 25) {
      EXPECT_LT(motion, 0.002) << "still";
    } else if (i > 25) {
      EXPECT_GT(motion, 0.005) << "moving";
    }
  }
  EXPECT_GT(lines[25]["scalars"]["motion"].get<double>(), 0.1) << "gray to test pattern";
}

TEST_F(ConfigsTest, ThumbnailsWritesAContactSheetAndEveryFiftiethFrame) {
  const auto clip = make_clip("configs-testsrc2-100.mp4",
                              "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 "
                              "-preset ultrafast -pix_fmt yuv420p");
  const auto output = run("thumbnails.yaml", clip);
  const auto sheet = dir_ / "configs-testsrc2-100-sheet.jpg";
  EXPECT_NE(output.find("output: " + sheet.string()), std::string::npos) << output;
  // 4x4 thumbnails 320 wide (240 high) with 4-pixel gaps.
  EXPECT_EQ(probe_video(sheet, "stream=width,height"), "1300,980");
  std::set<std::string> stills;
  for (const auto& entry : fs::directory_iterator(dir_ / "configs-testsrc2-100-stills")) {
    stills.insert(entry.path().filename().string());
    EXPECT_EQ(probe_video(entry.path(), "stream=width,height"), "320,240");
  }
  EXPECT_EQ(stills, (std::set<std::string>{"000000.jpg", "000050.jpg"}));
}

// A folder of photos and a video: only the photos, each fitted inside the box keeping its shape,
// written as JPEG under its own name and subfolder.
TEST_F(ConfigsTest, PhotosWebFitsEachPhotoAndWritesItAsJpegUnderItsName) {
  const auto photos = dir_ / "photos";
  fs::create_directories(photos / "a");
  fs::copy_file(make_clip("configs-photo-640x480.png",
                          "-f lavfi -i testsrc2=size=640x480:rate=1 -frames:v 1 -pix_fmt rgb24"),
                photos / "a/wide.png");
  fs::copy_file(
      make_clip("configs-photo-90x120.jpg", "-f lavfi -i testsrc2=size=90x120:rate=1 -frames:v 1"),
      photos / "tall.jpg");
  fs::copy_file(make_clip("configs-photo-clip.mp4",
                          "-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 "
                          "-preset ultrafast -pix_fmt yuv420p"),
                photos / "clip.mp4");
  const auto out = dir_ / "out";
  const auto result = run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " +
                                shell_quote((kConfigs / "photos-web.yaml").string()) + " -i " +
                                shell_quote(photos.string()) + " -o " + shell_quote(out.string()) +
                                " --quiet --set stages.fit.params.width=160 "
                                "--set stages.fit.params.height=160");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::set<std::string> written;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    const auto relative = entry.path().lexically_relative(out).string();
    if (entry.is_regular_file() && !relative.starts_with("report/") && !relative.starts_with("."))
      written.insert(relative);
  }
  EXPECT_EQ(written, (std::set<std::string>{"a/wide.jpg", "tall.jpg"}));
  EXPECT_EQ(probe_video(out / "a/wide.jpg", "stream=codec_name,width,height"), "mjpeg,160,120");
  // Never enlarged: 90x120 fits already.
  EXPECT_EQ(probe_video(out / "tall.jpg", "stream=codec_name,width,height"), "mjpeg,90,120");
}

TEST_F(ConfigsTest, PhotosFacesBlurredBlursTheFaceAndNothingFarFromIt) {
  // messi5.jpg, 548x342: the player's face (eyes to chin) spans x 228..262, y 88..130
  // (tests/stages/ml_test.cpp).
  const auto photos = dir_ / "photos";
  fs::create_directories(photos / "sport");
  fs::copy_file(opencv_sample("messi5.jpg"), photos / "sport/messi.jpg");
  const auto out = dir_ / "out";
  const auto result =
      run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " +
                shell_quote((kConfigs / "photos-faces-blurred.yaml").string()) + " -i " +
                shell_quote(photos.string()) + " -o " + shell_quote(out.string()) + " --quiet");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const cv::Mat before = cv::imread(opencv_sample("messi5.jpg").string());
  const cv::Mat after = cv::imread((out / "sport/messi.jpg").string());
  ASSERT_EQ(after.size(), before.size());
  const cv::Rect face(228, 88, 34, 42);
  EXPECT_LT(laplacian_detail(after(face)), 0.3 * laplacian_detail(before(face)));
  // The lower left, far from any face, differs only by the JPEG's re-encoding.
  const cv::Rect corner(0, 250, 120, 90);
  EXPECT_LT(cv::norm(after(corner), before(corner), cv::NORM_L1) / (corner.area() * 3), 4.0);
}

}  // namespace
}  // namespace framepipe::testing
