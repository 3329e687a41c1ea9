// Image files as inputs, through the framepipe binary, against OpenCV's own codecs as the
// reference: JPEGs decode to the pixels cv::imread gives (EXIF orientation included), an image
// pipeline's outputs are the bytes (JPEG) or pixels (PNG, BMP, TIFF) of cv::imread →
// cv::GaussianBlur → cv::Canny → cv::imwrite, keep their names and subfolders, a damaged JPEG
// fails alone, --resume skips done images, and a video sink refuses images up front.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "pipeline/inputs.h"
#include "pipeline/sequence_pattern.h"
#include "tests/reliability/cli_helpers.h"
#include "tests/support/exif_jpeg.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;

// One picture of the ffmpeg CLI's testsrc2 (colour, edges, text), 47x31 so that chroma
// subsampling meets an odd edge; JPEGs 4:2:0 unless `codec_args` say otherwise.
fs::path still(const std::string& name, const std::string& codec_args = "") {
  const bool jpeg = name.ends_with(".jpg");
  return make_clip("image-47x31-" + name,
                   "-f lavfi -i testsrc2=size=48x32:rate=1 -vf format=rgb24,crop=47:31:0:0 "
                   "-frames:v 1 " +
                       std::string(jpeg ? "-pix_fmt yuvj420p " : "") + codec_args);
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Every regular file under `dir`, relative, leaving out the manifest and the report folder.
std::set<std::string> outputs_under(const fs::path& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto relative = entry.path().lexically_relative(dir).string();
    if (entry.is_regular_file() && !relative.starts_with("report/") &&
        relative != ".framepipe-manifest.json")
      files.insert(relative);
  }
  return files;
}

// The edges of an image as the direct OpenCV calls make them.
cv::Mat reference_edges(const fs::path& input) {
  const cv::Mat image = cv::imread(input.string());
  cv::Mat blurred, edges;
  cv::GaussianBlur(image, blurred, cv::Size(5, 5), 2, 2);
  cv::Canny(blurred, edges, 50, 150);
  return edges;
}

void expect_same_pixels(const cv::Mat& actual, const cv::Mat& expected, const std::string& what) {
  ASSERT_FALSE(actual.empty()) << what;
  ASSERT_EQ(actual.size(), expected.size()) << what;
  ASSERT_EQ(actual.type(), expected.type()) << what;
  EXPECT_EQ(cv::norm(actual, expected, cv::NORM_INF), 0) << what;
}

class ImageInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-images");
    in_ = dir_ / "photos";
    out_ = dir_ / "out";
    fs::create_directories(in_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_config(const std::string& stages) {
    std::ofstream(dir_ / "images.yaml") << "pipeline: {files_in_parallel: 2}\nstages:\n" << stages;
  }

  fs::path copy_in(const fs::path& source, const std::string& relative) {
    const auto path = in_ / relative;
    fs::create_directories(path.parent_path());
    fs::copy_file(source, path);
    return path;
  }

  CommandResult run(const std::string& args = "") {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote((dir_ / "images.yaml").string()) +
                     " -i " + shell_quote(in_.string()) + " -o " + shell_quote(out_.string()) +
                     " --quiet " + args + " 2>&1");
  }

  // Ten numbered frames in photos/frames/ through decode -> encode, given as one input by
  // `options` (-i with their pattern, or a setting): the video's frame count and rate, as
  // ffprobe reads them.
  std::pair<std::int64_t, std::string> encoded_sequence(const std::string& options);

  fs::path dir_, in_, out_;
};

constexpr const char* kEdgesToImages =
    "  - {type: decode}\n"
    "  - {type: gaussian_blur, params: {ksize: 5, sigma: 2}}\n"
    "  - {type: canny, params: {low: 50, high: 150}}\n"
    "  - {type: write_images}\n";

TEST_F(ImageInputsTest, ExifOrientationsOneToEightTurnJpegsAsCvImreadDoes) {
  const auto plain = read_text(still("plain.jpg", "-q:v 3"));
  for (int orientation = 1; orientation <= 8; ++orientation) {
    write_bytes(in_ / ("o" + std::to_string(orientation) + ".jpg"),
                with_exif_orientation(plain, orientation, orientation % 2 == 0));
  }
  // PNG outputs hold the decoded pixels exactly.
  write_config(
      "  - {type: decode}\n  - {type: write_images, params: {image_path: \"{stem}.png\"}}\n");
  const auto result = run();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const auto name = "o" + std::to_string(orientation);
    const cv::Mat expected = cv::imread((in_ / (name + ".jpg")).string());
    // The fixture really is turned: 5 to 8 swap width and height.
    EXPECT_EQ(expected.cols, orientation >= 5 ? 31 : 47) << name;
    expect_same_pixels(cv::imread((out_ / (name + ".png")).string()), expected, name);
  }
}

TEST_F(ImageInputsTest, EdgesMatchDirectOpenCvCallsAndKeepNamesFoldersAndFormats) {
  const auto top = copy_in(still("top.jpg", "-q:v 3"), "top.jpg");
  const auto nested = copy_in(still("nested.jpg", "-q:v 5"), "a/b.jpg");
  const auto png = copy_in(still("c.png", "-pix_fmt rgb24"), "a/deep/c.png");
  const auto bmp = copy_in(still("d.bmp", "-pix_fmt bgr24"), "d.bmp");
  const auto tiff = copy_in(still("e.tif", "-pix_fmt rgb24"), "a/e.tif");
  const auto webp = copy_in(still("f.webp", "-c:v libwebp -lossless 1"), "f.webp");
  write_config(kEdgesToImages);
  const auto result = run();
  ASSERT_EQ(result.exit_code, 0) << result.output;

  EXPECT_EQ(outputs_under(out_), (std::set<std::string>{"top.jpg", "a/b.jpg", "a/deep/c.png",
                                                        "d.bmp", "a/e.tif", "f.webp"}));
  // JPEG: the bytes cv::imwrite writes at its default quality, 95, write_images' default too.
  for (const auto& [input, output] : {std::pair{top, "top.jpg"}, std::pair{nested, "a/b.jpg"}}) {
    std::vector<unsigned char> expected;
    ASSERT_TRUE(cv::imencode(".jpg", reference_edges(input), expected));
    EXPECT_EQ(read_text(out_ / output), std::string(expected.begin(), expected.end())) << output;
  }
  // Lossless formats: the very pixels.
  for (const auto& [input, output] : {std::pair{png, "a/deep/c.png"}, std::pair{bmp, "d.bmp"},
                                      std::pair{tiff, "a/e.tif"}, std::pair{webp, "f.webp"}}) {
    const cv::Mat written = cv::imread((out_ / output).string(), cv::IMREAD_GRAYSCALE);
    if (std::string(output) == "f.webp") {
      // Written lossy at jpeg_quality: a WebP of the right size, not the exact pixels.
      EXPECT_EQ(read_text(out_ / output).substr(8, 4), "WEBP");
      EXPECT_EQ(written.size(), cv::Size(47, 31));
      continue;
    }
    expect_same_pixels(written, reference_edges(input), output);
  }
}

TEST_F(ImageInputsTest, DamagedJpegFailsAloneWithOneLineAndResumeSkipsDoneImages) {
  copy_in(still("good.jpg", "-q:v 3"), "good.jpg");
  copy_in(still("good.png", "-pix_fmt rgb24"), "sub/good.png");
  const auto whole = read_text(still("cut.jpg", "-q:v 3"));
  write_bytes(in_ / "sub/cut.jpg", whole.substr(0, whole.size() / 2));
  write_config(kEdgesToImages);

  const auto first = run();
  EXPECT_EQ(first.exit_code, 1) << first.output;
  std::size_t lines_naming_it = 0;
  std::istringstream lines(first.output);
  for (std::string line; std::getline(lines, line);)
    lines_naming_it += line.find("cut.jpg") != std::string::npos;
  EXPECT_EQ(lines_naming_it, 1u) << first.output;
  EXPECT_NE(first.output.find("damaged JPEG"), std::string::npos) << first.output;
  EXPECT_EQ(outputs_under(out_), (std::set<std::string>{"good.jpg", "sub/good.png"}));

  // Repaired, the damaged one runs again; the others are skipped.
  const auto good_time = fs::last_write_time(out_ / "good.jpg");
  write_bytes(in_ / "sub/cut.jpg", whole);
  const auto resumed = run("--resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto totals = read_json(out_ / "report/batch.json")["totals"];
  EXPECT_EQ(totals["skipped"].get<int>(), 2);
  EXPECT_EQ(totals["ok"].get<int>(), 1);
  EXPECT_EQ(fs::last_write_time(out_ / "good.jpg"), good_time);
  EXPECT_EQ(outputs_under(out_),
            (std::set<std::string>{"good.jpg", "sub/good.png", "sub/cut.jpg"}));
}

// A FIFO named like an image is refused before anything opens it (opening would block).
TEST_F(ImageInputsTest, FifoNamedLikeAnImageFailsAloneWithoutBlocking) {
  copy_in(still("beside-fifo.jpg"), "good.jpg");
  ASSERT_EQ(mkfifo((in_ / "pipe.jpg").c_str(), 0600), 0);
  write_config(kEdgesToImages);
  const auto result =
      run_shell("timeout 60 " + shell_quote(kBinary) + " run " +
                shell_quote((dir_ / "images.yaml").string()) + " -i " + shell_quote(in_.string()) +
                " -o " + shell_quote(out_.string()) + " --quiet 2>&1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("pipe.jpg"), std::string::npos) << result.output;
  EXPECT_EQ(outputs_under(out_), (std::set<std::string>{"good.jpg"}));
}

// A JPEG's header is read before its pixels: one larger than max_pixels fails alone.
TEST_F(ImageInputsTest, JpegLargerThanThePixelCapFailsBeforeDecoding) {
  copy_in(still("capped.jpg"), "capped.jpg");
  copy_in(still("capped-too.png", "-pix_fmt rgb24"), "capped-too.png");
  write_config(kEdgesToImages);
  const auto result = run("--set stages.decode.params.max_pixels=1456");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("capped.jpg': its picture is 47x31 (1457 pixels), more than "
                               "decode's max_pixels 1456"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("its pictures are 47x31 (1457 pixels)"), std::string::npos)
      << result.output;
  EXPECT_TRUE(outputs_under(out_).empty());
}

TEST_F(ImageInputsTest, VideoSinkRefusesImagesUpFrontAndKindVideoLeavesThemOut) {
  copy_in(make_clip("images-clip-64x48-5f.mp4",
                    "-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 -preset "
                    "ultrafast -pix_fmt yuv420p"),
          "clip.mp4");
  copy_in(still("one.jpg"), "one.jpg");
  copy_in(still("two.png"), "two.png");
  write_config(
      "  - {type: decode}\n  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n");
  const auto refused = run();
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("'" + (in_ / "one.jpg").string() +
                                "' is an image, but stage 'encode' writes a video ('one.avi') "
                                "(and 1 more images)"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("input.kind: video"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(out_ / "clip.avi"));

  const auto videos = run("--set input.kind=video");
  ASSERT_EQ(videos.exit_code, 0) << videos.output;
  EXPECT_EQ(outputs_under(out_), (std::set<std::string>{"clip.avi"}));
}

TEST_F(ImageInputsTest, KindNarrowsTheDefaultIncludeOfVideosAndImages) {
  for (const auto* name : {"a.mp4", "b.JPG", "sub/c.png", "d.txt", "e.webp", "f.mkv"})
    write_bytes(in_ / name, "x");
  auto names = [&](InputKind kind) {
    InputSelection selection;
    selection.kind = kind;
    std::set<std::string> found;
    for (const auto& input : find_inputs(in_, selection)) found.insert(input.relative);
    return found;
  };
  EXPECT_EQ(names(InputKind::any),
            (std::set<std::string>{"a.mp4", "b.JPG", "sub/c.png", "e.webp", "f.mkv"}));
  EXPECT_EQ(names(InputKind::video), (std::set<std::string>{"a.mp4", "f.mkv"}));
  EXPECT_EQ(names(InputKind::image), (std::set<std::string>{"b.JPG", "sub/c.png", "e.webp"}));
  EXPECT_TRUE(is_image_name("http://host/photos/x.jpeg?size=2"));
  EXPECT_FALSE(is_image_name("-"));
  EXPECT_FALSE(is_image_name("clip.mp4"));
  EXPECT_FALSE(is_sequence_pattern("http://host/photos/x.jpeg?size=2"));
}

TEST_F(ImageInputsTest, ListingIsInStdFilesystemPathOrder) {
  // The inputs are held as text; their order is still std::filesystem::path's, component by
  // component, where "a/b.jpg" comes before "a-c.jpg" (plain text order puts it after).
  const std::vector<std::string> names{"a-c.jpg", "ab/x.jpg", "a/z/y.jpg",
                                       "a.jpg",   "a/b.jpg",  "a b.png"};
  for (const auto& name : names) write_bytes(in_ / name, "x");
  std::vector<fs::path> expected(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  std::vector<fs::path> listed;
  for (const auto& input : find_inputs(in_, InputSelection{})) listed.emplace_back(input.relative);
  EXPECT_EQ(listed, expected);
  auto text_order = names;
  std::sort(text_order.begin(), text_order.end());
  EXPECT_NE(std::vector<fs::path>(text_order.begin(), text_order.end()), expected);
}

TEST_F(ImageInputsTest, VideoAndImagesMixedInOneFolderEachNamedItsWay) {
  copy_in(make_clip("images-clip-64x48-5f.mp4",
                    "-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 -preset "
                    "ultrafast -pix_fmt yuv420p"),
          "v/clip.mp4");
  const auto photo = copy_in(still("mixed.jpg"), "v/photo.jpg");
  write_config("  - {type: decode}\n  - {type: write_images, params: {every: 2}}\n");
  const auto result = run();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(outputs_under(out_),
            (std::set<std::string>{"v/clip-frames/000000.png", "v/clip-frames/000002.png",
                                   "v/clip-frames/000004.png", "v/photo.jpg"}));
  // Decoded as cv::imread does and written at quality 95: cv::imwrite's bytes.
  std::vector<unsigned char> expected;
  ASSERT_TRUE(cv::imencode(".jpg", cv::imread(photo.string()), expected));
  EXPECT_EQ(read_text(out_ / "v/photo.jpg"), std::string(expected.begin(), expected.end()));
}

// The videos run as files and the images through a graph of their own, side by side
// (files_in_parallel: 2), so they end in another order than the folder's: batch.json still lists
// them in the folder's order, each entry with its own input's outputs.
TEST_F(ImageInputsTest, MixedFolderIsListedInBatchJsonInTheFoldersOrder) {
  const auto clip = make_clip("images-clip-64x48-5f.mp4",
                              "-f lavfi -i testsrc2=size=64x48:rate=5:duration=1 -c:v libx264 "
                              "-preset ultrafast -pix_fmt yuv420p");
  const auto photo = still("mixed.jpg");
  const std::vector<std::string> names = {"a.jpg", "b.mp4", "c.jpg", "d.jpg", "e.mp4", "f.jpg"};
  for (const auto& name : names) copy_in(name.ends_with(".mp4") ? clip : photo, name);
  write_config("  - {type: decode}\n  - {type: write_images, params: {every: 2}}\n");
  const auto result = run();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::vector<std::string> listed;
  const auto batch = read_json(out_ / "report/batch.json");
  for (const auto& entry : batch["files"]) {
    const auto name = entry["relative"].get<std::string>();
    listed.push_back(name);
    std::vector<fs::path> outputs;
    for (const auto& output : entry["outputs"]) outputs.emplace_back(output.get<std::string>());
    const auto stem = fs::path(name).stem().string();
    const auto expected = name.ends_with(".mp4")
                              ? std::vector<fs::path>{out_ / (stem + "-frames/000000.png"),
                                                      out_ / (stem + "-frames/000002.png"),
                                                      out_ / (stem + "-frames/000004.png")}
                              : std::vector<fs::path>{out_ / name};
    EXPECT_EQ(outputs, expected) << name;
  }
  EXPECT_EQ(listed, names);
}

// Ten numbered PNG frames (000000.png … 000009.png) in `folder`, made by the ffmpeg CLI.
void numbered_frames(const fs::path& folder) {
  fs::create_directories(folder);
  capture(
      "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 10 "
      "-start_number 0 " +
      shell_quote((folder / "%06d.png").string()));
}

std::pair<std::int64_t, std::string> ImageInputsTest::encoded_sequence(const std::string& options) {
  numbered_frames(in_ / "frames");
  write_config(
      "  - {type: decode}\n  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n");
  const auto result =
      run_shell(shell_quote(kBinary) + " run " + shell_quote((dir_ / "images.yaml").string()) +
                " -o " + shell_quote(out_.string()) + " --quiet " + options + " 2>&1");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto video = (out_ / "frames.avi").string();
  return {frame_count(video), probe_video(video, "stream=r_frame_rate")};
}

TEST_F(ImageInputsTest, NumberedSequenceIsOneVideoNamedAfterItsFolder) {
  // libav's image2 default rate.
  EXPECT_EQ(encoded_sequence("-i " + shell_quote((in_ / "frames/%06d.png").string())),
            std::make_pair(std::int64_t{10}, std::string("25/1")));
}

TEST_F(ImageInputsTest, NumberedSequenceTakesItsFrameRateFromInputFps) {
  EXPECT_EQ(encoded_sequence("-i " + shell_quote((in_ / "frames/%06d.png").string()) +
                             " --set input.fps=10"),
            std::make_pair(std::int64_t{10}, std::string("10/1")));
}

TEST_F(ImageInputsTest, SequenceFormGivesAGlobAndItsRate) {
  EXPECT_EQ(
      encoded_sequence("--set " +
                       shell_quote("input.sequence.pattern=" + (in_ / "frames/*.png").string()) +
                       " --set input.sequence.fps=10"),
      std::make_pair(std::int64_t{10}, std::string("10/1")));
}

// A glob's files in name order, each one frame: written back as numbered PNGs, every one is the
// file it came from, as cv::imread reads it.
TEST_F(ImageInputsTest, GlobSequenceIsItsFilesInNameOrder) {
  numbered_frames(in_ / "frames");
  write_config(
      "  - {type: decode}\n  - {type: write_images, params: {path: \"{stem}/{frame:06}.png\"}}\n");
  const auto result =
      run_shell(shell_quote(kBinary) + " run " + shell_quote((dir_ / "images.yaml").string()) +
                " -i " + shell_quote((in_ / "frames/*.png").string()) + " -o " +
                shell_quote(out_.string()) + " --quiet 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (int n = 0; n < 10; ++n) {
    const auto name = "00000" + std::to_string(n) + ".png";
    expect_same_pixels(cv::imread((out_ / "frames" / name).string()),
                       cv::imread((in_ / "frames" / name).string()), name);
  }
  EXPECT_FALSE(fs::exists(out_ / "frames/000010.png"));
}

TEST_F(ImageInputsTest, GlobMatchingNoFileFailsWithOneLineAndWritesNothing) {
  numbered_frames(in_ / "frames");
  write_config(
      "  - {type: decode}\n  - {type: write_images, params: {path: \"{stem}/{frame}.png\"}}\n");
  const auto pattern = (in_ / "frames/*.jpg").string();
  const auto result = run_shell(
      shell_quote(kBinary) + " run " + shell_quote((dir_ / "images.yaml").string()) + " -i " +
      shell_quote(pattern) + " -o " + shell_quote(out_.string()) + " --quiet 2>&1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("'" + pattern + "': no file matches this pattern"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(out_ / "frames"));
}

TEST_F(ImageInputsTest, SequenceWithAGapFailsNamingTheMissingFileAndWritesNothing) {
  numbered_frames(in_ / "frames");
  fs::remove(in_ / "frames/000005.png");
  write_config(
      "  - {type: decode}\n  - {type: write_images, params: {path: \"{stem}/{frame:06}.png\"}}\n");
  const auto result =
      run_shell(shell_quote(kBinary) + " run " + shell_quote((dir_ / "images.yaml").string()) +
                " -i " + shell_quote((in_ / "frames/%06d.png").string()) + " -o " +
                shell_quote(out_.string()) + " --quiet 2>&1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("the numbered sequence has a gap: '" +
                               (in_ / "frames/000005.png").string() +
                               "' is missing between 000004 and 000006 (4 files after the gap)"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(out_ / "frames"));
}

TEST(SequencePatternTest, PatternsAndTheirStems) {
  EXPECT_TRUE(is_sequence_pattern("frames/%06d.png"));
  EXPECT_TRUE(is_sequence_pattern("shot-%d.jpg"));
  EXPECT_FALSE(is_sequence_pattern("100%.jpg"));
  EXPECT_FALSE(is_sequence_pattern("a%b/photo.jpg"));
  // Only the last component counts, as std::filesystem::path::filename() gives it.
  EXPECT_FALSE(is_sequence_pattern("/data/take-%d/photo.jpg"));
  EXPECT_FALSE(is_sequence_pattern("frames/%06d.png/"));
  EXPECT_TRUE(is_sequence_pattern("/abs/a%b/x-%3d.tif"));
  EXPECT_FALSE(is_image_name("frames/%06d.png"));
  EXPECT_EQ(sequence_stem("frames/%06d.png"), "frames");
  EXPECT_EQ(sequence_stem("a/shot-%04d.jpg"), "shot");
  EXPECT_EQ(sequence_stem("%d.png"), "sequence");
  EXPECT_TRUE(is_sequence_pattern("no-such-folder/*.png"));
  EXPECT_TRUE(is_sequence_glob("no-such-folder/shot-??.jpg"));
  EXPECT_FALSE(is_sequence_glob("no-such-*/shot.jpg"));
  EXPECT_EQ(sequence_stem("no-such-folder/shot-*.jpg"), "shot");
  EXPECT_EQ(sequence_stem("no-such-folder/*.png"), "no-such-folder");
  EXPECT_EQ(sequence_stem("no-such-folder/[ab]*.png"), "no-such-folder");
  // A file may be named like a glob: then it is that file.
  const auto dir = make_temp_dir("framepipe-glob-name");
  std::ofstream(dir / "a*.png") << "x";
  EXPECT_FALSE(is_sequence_pattern((dir / "a*.png").string()));
  EXPECT_TRUE(is_image_name((dir / "a*.png").string()));
  EXPECT_EQ(glob_matches((dir / "a*").string()), 1u);
  EXPECT_EQ(glob_matches((dir / "b*").string()), 0u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace framepipe::testing
