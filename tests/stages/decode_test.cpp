// The decode stage against independent references: ffprobe for frame counts and timestamps, the
// ffmpeg CLI's own decode to bgr24 for pixels.
#include <gtest/gtest.h>
#include <sched.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/profiler.h"
#include "pipeline/stage.h"
#include "tests/support/media.h"
#include "tests/support/stage_harness.h"

namespace framepipe {
namespace {

using testing::capture;
using testing::context_for;
using testing::decode_all;
using testing::make_clip;
using testing::shell_quote;
using testing::StageHarness;

// Small clips, so the suite stays fast on two cores.
struct Clip {
  std::string name;
  std::string ffmpeg_args;
};
void PrintTo(const Clip& clip, std::ostream* out) { *out << clip.name; }

const Clip kH264{"io_h264_bframes.mp4",
                 "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 "
                 "-preset veryfast -bf 3 -pix_fmt yuv420p"};
const Clip kMpeg4{"io_mpeg4.avi",
                  "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v mpeg4 -q:v 4"};
const Clip kVp9{"io_vp9.webm",
                "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libvpx-vp9 "
                "-deadline realtime -cpu-used 8 -b:v 300k"};
// Tagged BT.709 and full-range (MJPEG's yuvj420p): the conversion must honour both, as the CLI.
const Clip kBt709{"io_h264_bt709.mp4",
                  "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libx264 "
                  "-preset veryfast -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 "
                  "-color_trc bt709"};
const Clip kMjpeg{"io_mjpeg_full_range.avi",
                  "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v mjpeg -q:v 3"};
// testsrc2 rounds its size to even numbers, hence the scale filter.
const Clip kOdd{"io_odd_641x359.avi",
                "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -vf scale=641:359 "
                "-c:v mpeg4 -q:v 3 -pix_fmt yuv420p"};

std::filesystem::path clip_path(const Clip& clip) { return make_clip(clip.name, clip.ffmpeg_args); }

std::string probe_stream(const std::filesystem::path& path, const std::string& entry) {
  auto text = capture("ffprobe -v error -select_streams v:0 -show_entries stream=" + entry +
                      " -of csv=p=0 " + shell_quote(path.string()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ',')) text.pop_back();
  return text;
}

std::string to_string(const Rational& r) {
  return std::to_string(r.num) + "/" + std::to_string(r.den);
}

// Frame `n` as the ffmpeg CLI decodes and converts it to bgr24.
cv::Mat ffmpeg_bgr_frame(const std::filesystem::path& path, int n, cv::Size size) {
  const auto raw =
      capture("ffmpeg -nostdin -v error -i " + shell_quote(path.string()) + " -vf 'select=eq(n\\," +
              std::to_string(n) + ")' -frames:v 1 -f rawvideo -pix_fmt bgr24 -");
  if (raw.size() != static_cast<std::size_t>(size.area()) * 3) {
    throw std::runtime_error("ffmpeg gave " + std::to_string(raw.size()) + " bytes");
  }
  return cv::Mat(size, CV_8UC3, const_cast<char*>(raw.data())).clone();
}

class DecodeClipTest : public ::testing::TestWithParam<Clip> {};

TEST_P(DecodeClipTest, FramesAndTimestampsMatchFfprobe) {
  const auto path = clip_path(GetParam());
  const auto expected_pts = testing::ffprobe_pts(path);
  ASSERT_FALSE(expected_pts.empty());

  const auto frames = decode_all(path);
  std::vector<std::int64_t> pts;
  for (const auto& frame : frames) pts.push_back(frame.pts);
  EXPECT_EQ(pts, expected_pts);

  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(to_string(frames.front().time_base), probe_stream(path, "time_base"));
  EXPECT_EQ(frames.front().frame_rate.value(), 25.0);
}

// Pixels: identical swscale settings should give identical bytes; the bound leaves room for a
// different SIMD path. Measured on Debian 12 (FFmpeg 5.1): mean 0, max 0 on every clip.
TEST_P(DecodeClipTest, PixelsMatchFfmpegCliBgr24) {
  const auto path = clip_path(GetParam());
  auto frames = decode_all(path);
  ASSERT_GT(frames.size(), 10u);
  const cv::Mat& image = frames[10].image();
  ASSERT_EQ(image.type(), CV_8UC3);
  const cv::Size size(std::stoi(probe_stream(path, "width")),
                      std::stoi(probe_stream(path, "height")));
  ASSERT_EQ(image.size(), size);

  const cv::Mat reference = ffmpeg_bgr_frame(path, 10, size);
  cv::Mat diff;
  cv::absdiff(image, reference, diff);
  double max_diff = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &max_diff);
  const double mean_diff = cv::mean(diff.reshape(1))[0];
  EXPECT_LE(mean_diff, 0.5);
  EXPECT_LE(max_diff, 4);
  std::cout << "[ measured ] mean abs diff " << mean_diff << ", max " << max_diff << "\n";
}

INSTANTIATE_TEST_SUITE_P(Codecs, DecodeClipTest,
                         ::testing::Values(kH264, kMpeg4, kVp9, kOdd, kBt709, kMjpeg),
                         [](const auto& info) {
                           auto name = info.param.name;
                           for (auto& c : name) c = std::isalnum(c) ? c : '_';
                           return name;
                         });

// The gray shortcut (no BGR conversion) of a BT.601 or untagged source is its own luma, as the
// ffmpeg CLI's `-pix_fmt gray` gives it, and close to BGR2GRAY of the BGR picture.
TEST(DecodeTest, GrayShortcutIsTheSourceLumaAsTheCliGivesIt) {
  for (const auto& clip : {kH264, kMjpeg}) {
    const auto path = clip_path(clip);
    auto frames = decode_all(path);
    ASSERT_GT(frames.size(), 10u);
    for (int n : {0, 10}) {
      auto& frame = frames[static_cast<std::size_t>(n)];
      const cv::Mat luma = frame.deferred_gray();
      ASSERT_FALSE(luma.empty()) << clip.name << " frame " << n;
      const auto raw = capture("ffmpeg -nostdin -v error -i " + shell_quote(path.string()) +
                               " -vf 'select=eq(n\\," + std::to_string(n) +
                               ")' -frames:v 1 -f rawvideo -pix_fmt gray -");
      ASSERT_EQ(raw.size(), static_cast<std::size_t>(luma.total())) << clip.name;
      const cv::Mat cli(luma.size(), CV_8UC1, const_cast<char*>(raw.data()));
      double worst = 0;
      cv::Mat difference;
      cv::absdiff(luma, cli, difference);
      cv::minMaxLoc(difference, nullptr, &worst);
      EXPECT_LE(worst, 1) << clip.name << " frame " << n << " against ffmpeg -pix_fmt gray";

      cv::Mat from_bgr;
      cv::cvtColor(frame.image(), from_bgr, cv::COLOR_BGR2GRAY);
      cv::absdiff(luma, from_bgr, difference);
      // Where compression left YUV values outside the RGB cube (sharp colour edges), the BGR
      // picture is clipped and its gray moves; on average the two agree within a level.
      EXPECT_LT(cv::mean(difference)[0], 1.0) << clip.name << " frame " << n;
    }
  }
}

// Other matrices weigh colours differently from BGR2GRAY, so the shortcut adds the share of Cb
// and Cr that BGR2GRAY gives under the source's matrix: against BGR2GRAY of the decoded BGR
// picture (itself checked against the CLI above) it must do what the luma alone cannot.
TEST(DecodeTest, GrayShortcutOfOtherMatricesIsTheGrayOfTheBgrPicture) {
  // Converted from RGB with the matrix they are tagged with, so their colours lie in its gamut.
  auto clip_in = [](const std::string& name, const std::string& matrix, const std::string& range,
                    const std::string& pix_fmt, const std::string& size = "320x240") {
    return Clip{name, "-f lavfi -i testsrc2=size=" + size +
                          ":rate=25:duration=1 -vf scale=out_color_matrix=" + matrix +
                          ":out_range=" + range + " -c:v libx264 -preset veryfast -pix_fmt " +
                          pix_fmt + " -colorspace " + (matrix == "bt2020" ? "bt2020nc" : matrix) +
                          " -color_range " + range};
  };
  const Clip bt709 = clip_in("io_gray_bt709.mp4", "bt709", "tv", "yuv420p");
  const Clip bt709_full = clip_in("io_gray_bt709_full.mp4", "bt709", "pc", "yuv420p");
  const Clip bt2020_444 = clip_in("io_gray_bt2020_444.mp4", "bt2020", "tv", "yuv444p");
  // A width that is not a multiple of 16 leaves a tail to the scalar loop.
  const Clip bt709_tail = clip_in("io_gray_bt709_330x244.mp4", "bt709", "tv", "yuv420p", "330x244");
  for (const auto& clip : {bt709, bt709_full, bt2020_444, bt709_tail}) {
    auto frames = decode_all(clip_path(clip));
    ASSERT_GT(frames.size(), 10u) << clip.name;
    for (int n : {0, 10}) {
      auto& frame = frames[static_cast<std::size_t>(n)];
      const cv::Mat shortcut = frame.deferred_gray();
      ASSERT_FALSE(shortcut.empty()) << clip.name << " frame " << n;
      cv::Mat from_bgr;
      cv::cvtColor(frame.image(), from_bgr, cv::COLOR_BGR2GRAY);
      cv::Mat difference;
      cv::absdiff(shortcut, from_bgr, difference);
      const double mean = cv::mean(difference)[0];
      // As for BT.601 (above): rounding, and sharp colour edges where the BGR picture clipped or
      // 4:2:0 chroma was spread differently. Measured: mean 0.32 to 0.72, 1.3% to 2.1% of the
      // pixels off by more than 2 levels.
      const double far_share = static_cast<double>(cv::countNonZero(difference > 2)) /
                               static_cast<double>(difference.total());
      EXPECT_LT(mean, 1.0) << clip.name << " frame " << n;
      EXPECT_LT(far_share, 0.05) << clip.name << " frame " << n;

      // The luma plane alone (the CLI's `-pix_fmt gray`), right for BT.601, is far off here.
      const auto raw = capture("ffmpeg -nostdin -v error -i " +
                               shell_quote(clip_path(clip).string()) + " -vf 'select=eq(n\\," +
                               std::to_string(n) + ")' -frames:v 1 -f rawvideo -pix_fmt gray -");
      ASSERT_EQ(raw.size(), static_cast<std::size_t>(shortcut.total())) << clip.name;
      const cv::Mat luma(shortcut.size(), CV_8UC1, const_cast<char*>(raw.data()));
      cv::absdiff(luma, from_bgr, difference);
      const double luma_mean = cv::mean(difference)[0];
      EXPECT_GT(luma_mean, 3 * mean + 1) << clip.name << " frame " << n;
      std::cout << "[ measured ] " << clip.name << " frame " << n << ": mean abs diff " << mean
                << ", share over 2 levels " << far_share << "; luma alone " << luma_mean << "\n";
    }
  }
}

TEST(DecodeTest, ThreadCountDoesNotChangeTheResult) {
  const auto path = clip_path(kH264);
  auto single = decode_all(path, "{type: decode, params: {threads: 1}}");
  auto many = decode_all(path, "{type: decode, params: {threads: 4}}");
  ASSERT_EQ(single.size(), many.size());
  for (std::size_t i = 0; i < single.size(); ++i) {
    EXPECT_EQ(single[i].pts, many[i].pts);
    EXPECT_EQ(cv::norm(single[i].image(), many[i].image(), cv::NORM_INF), 0) << "frame " << i;
  }
}

// Threads this process runs now.
std::ptrdiff_t threads_in_process() {
  return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                       std::filesystem::directory_iterator{});
}

// The threads that opening decode (`entry`) on kH264 starts, counted from a thread whose
// affinity mask allows the first two of this process's cores; the decoder's threads inherit it.
std::ptrdiff_t threads_started_on_two_cores(const std::string& entry) {
  std::ptrdiff_t started = -1;
  std::thread([&] {
    cpu_set_t allowed;
    cpu_set_t two;
    CPU_ZERO(&two);
    ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
    for (int cpu = 0, kept = 0; cpu < CPU_SETSIZE && kept < 2; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) {
        CPU_SET(cpu, &two);
        ++kept;
      }
    }
    ASSERT_EQ(sched_setaffinity(0, sizeof(two), &two), 0);
    const auto before = threads_in_process();
    StageHarness decoder(entry, context_for(clip_path(kH264)));
    ASSERT_TRUE(decoder.pull().has_value());
    started = threads_in_process() - before;
    decoder.finish();
  }).join();
  return started;
}

// threads: 0 is one decoder thread per allowed core, not libav's own choice (the cores plus
// one), which decoded slower; an explicit count is kept as given.
TEST(DecodeTest, DefaultThreadsAreOnePerAllowedCore) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "needs 2 cores, this process may use 1";
  const auto by_default = threads_started_on_two_cores("{type: decode}");
  const auto two = threads_started_on_two_cores("{type: decode, params: {threads: 2}}");
  const auto three = threads_started_on_two_cores("{type: decode, params: {threads: 3}}");
  EXPECT_EQ(by_default, two);
  EXPECT_EQ(three - two, 1);
}

// Conversions run on whichever worker first reads the pixels, several at once.
TEST(DecodeTest, ConvertsFramesConcurrently) {
  const auto path = clip_path(kOdd);
  auto sequential = decode_all(path);
  auto parallel = decode_all(path);
  ASSERT_EQ(sequential.size(), parallel.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < parallel.size(); i += 4) parallel[i].image();
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t i = 0; i < sequential.size(); ++i) {
    EXPECT_EQ(cv::norm(sequential[i].image(), parallel[i].image(), cv::NORM_INF), 0);
  }
}

TEST(DecodeTest, SplitsItsTimeIntoDemuxAndDecode) {
  const auto path = clip_path(kH264);
  StageMetrics metrics(steady_now_ns(), {"demux", "decode"});
  StageHarness harness("{type: decode}", context_for(path, {}, nullptr, &metrics));
  auto& source = dynamic_cast<SourceStage&>(harness.stage());
  while (source.next()) {
  }
  const auto phases = metrics.phases();
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_GT(phases[0].wall_ns, 0);
  EXPECT_GT(phases[1].wall_ns, 0);
}

// A stretch of garbage in the middle of the H.264 data: for now the decoder's refusal stops the
// run, naming the packet.
// A clip with garbage over its middle: with on_decode_error: fail the first damaged packet
// stops decoding, naming it; with skip (the default) decoding goes on, counts the damage, and
// fails only past max_decode_error_rate.
class CorruptClip : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("framepipe-decode");
    path_ = dir_ / "corrupt.mp4";
    std::filesystem::copy_file(clip_path(kH264), path_);
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path_) / 2));
    for (int i = 0; i < 3000; ++i) file.put(static_cast<char>(i * 37 + 11));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string error_of(const std::string& entry) {
    try {
      decode_all(path_, entry);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
};

TEST_F(CorruptClip, FailModeThrowsNamingThePacket) {
  const auto message = error_of("{type: decode, params: {on_decode_error: fail}}");
  EXPECT_NE(message.find("'" + path_.string() + "': the decoder rejected packet #"),
            std::string::npos)
      << message;
}

TEST_F(CorruptClip, SkipModeCountsDamageAndFailsOnlyPastTheBudget) {
  const auto over_budget =
      error_of("{type: decode, params: {on_decode_error: skip, max_decode_error_rate: 0}}");
  EXPECT_NE(over_budget.find("packets were damaged"), std::string::npos) << over_budget;
  StageHarness harness("{type: decode, params: {on_decode_error: skip, max_decode_error_rate: 1}}",
                       context_for(path_));
  auto& source = dynamic_cast<SourceStage&>(harness.stage());
  int frames = 0;
  while (source.next()) ++frames;
  const auto counters = harness.stage().counters();
  EXPECT_GT(counters.at("damaged_packets"), 0);
  EXPECT_EQ(counters.at("frames"), frames);
  EXPECT_EQ(counters.at("expected_frames"),
            static_cast<double>(testing::ffprobe_pts(clip_path(kH264)).size()));
  EXPECT_LT(frames, counters.at("expected_frames")) << "damaged packets cost frames";
}

std::string open_error(const std::filesystem::path& path,
                       const std::string& entry = "{type: decode}") {
  try {
    StageHarness harness(entry, context_for(path));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DecodeTest, MissingFileNamesFileAndCause) {
  const auto path = testing::fixture_dir() / "io_no_such_file.mp4";
  const auto message = open_error(path);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
}

TEST(DecodeTest, TextFileNamesFileAndCause) {
  const auto dir = testing::make_temp_dir("framepipe-decode");
  const auto path = dir / "notes.txt";
  std::ofstream(path) << "not a video\n";
  const auto message = open_error(path);
  std::filesystem::remove_all(dir);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("Invalid data found"), std::string::npos) << message;
}

TEST(DecodeTest, AudioOnlyFileHasNoVideoStream) {
  const auto path = make_clip("io_tone.wav", "-f lavfi -i sine=frequency=440:duration=0.2");
  const auto message = open_error(path);
  EXPECT_EQ(message, "'" + path.string() + "' has no video stream");
}

TEST(DecodeTest, MissingStreamIndexIsNamed) {
  const auto path = clip_path(kH264);
  EXPECT_EQ(open_error(path, "{type: decode, params: {stream: 3}}"),
            "'" + path.string() + "' has no video stream with index 3");
}

}  // namespace
}  // namespace framepipe
