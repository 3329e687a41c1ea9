// The encode stage: decode -> encode round trips checked with ffprobe and the ffmpeg CLI's psnr
// filter, and the promise that a failed or aborted run leaves no file behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/stage.h"
#include "stages/register_all.h"
#include "tests/support/media.h"
#include "tests/support/stage_harness.h"

namespace framepipe {
namespace {

namespace fs = std::filesystem;
using testing::capture;
using testing::frame_count;
using testing::make_frame;
using testing::probe_video;
using testing::psnr;
using testing::shell_quote;
using testing::StageHarness;

fs::path source_clip() {
  return testing::make_clip("io_encode_source.mp4",
                            "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 "
                            "-preset veryfast -pix_fmt yuv420p");
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

// `side_data` is the run's: decode publishes the input's other streams there for encode to copy.
RunContext context_in(const fs::path& dir, bool overwrite = false,
                      const fs::path& input = source_clip(), SideData* side_data = nullptr) {
  RunContext context{input.string(), dir, overwrite, nullptr};
  context.side_data = side_data;
  return context;
}

// Decodes `input` and encodes every frame with the given encode entry; returns the frame count.
int transcode(const fs::path& input, const std::string& encode_entry, const fs::path& out_dir,
              bool overwrite = false) {
  SideData side_data;
  StageHarness decode("{type: decode}", context_in(out_dir, false, input, &side_data));
  StageHarness encode(encode_entry, context_in(out_dir, overwrite, input, &side_data));
  auto& source = dynamic_cast<SourceStage&>(decode.stage());
  auto& sink = dynamic_cast<SinkStage&>(encode.stage());
  int frames = 0;
  while (auto frame = source.next()) {
    sink.consume(*frame);
    ++frames;
  }
  decode.stage().finish();
  encode.stage().finish();
  return frames;
}

class EncodeTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir("framepipe-encode"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

struct RoundTrip {
  std::string codec;
  std::string extension;
  std::string codec_name;  // as ffprobe names it
  double min_psnr;         // dB against the source, by the ffmpeg CLI's psnr filter
};
void PrintTo(const RoundTrip& trip, std::ostream* out) {
  *out << trip.codec << " ." << trip.extension;
}

class EncodeRoundTripTest : public EncodeTest, public ::testing::WithParamInterface<RoundTrip> {};

// Measured on Debian 12 (FFmpeg 5.1), 320x240 testsrc2: libx264 crf 23 40.1 dB, mpeg4 q 5
// 39.6 dB, ffv1 44.8 dB, which is all YUV -> BGR -> YUV rounding: the ffmpeg CLI's own bgr24
// round trip into ffv1 measures the same 44.8 dB.
TEST_P(EncodeRoundTripTest, KeepsFramesRateAndPicture) {
  const auto& param = GetParam();
  const auto source = source_clip();
  const int frames = transcode(source,
                               "{type: encode, params: {codec: " + param.codec +
                                   ", path: '{stem}." + param.extension + "'}}",
                               dir_);
  const auto output = dir_ / ("io_encode_source." + param.extension);
  ASSERT_EQ(files_in(dir_), std::vector<std::string>{output.filename().string()});

  EXPECT_EQ(frames, frame_count(source));
  EXPECT_EQ(frame_count(output), frame_count(source));
  EXPECT_EQ(probe_video(output, "stream=r_frame_rate"), probe_video(source, "stream=r_frame_rate"));
  EXPECT_EQ(probe_video(output, "stream=codec_name"), param.codec_name);
  EXPECT_EQ(probe_video(output, "stream=width,height"), "320,240");
  const double measured = psnr(output, source);
  EXPECT_GT(measured, param.min_psnr);
  std::cout << "[ measured ] " << param.codec << ": PSNR " << measured << " dB\n";
}

INSTANTIATE_TEST_SUITE_P(Codecs, EncodeRoundTripTest,
                         ::testing::Values(RoundTrip{"libx264", "mp4", "h264", 38},
                                           RoundTrip{"mpeg4", "avi", "mpeg4", 37},
                                           RoundTrip{"ffv1", "mkv", "ffv1", 44}),
                         [](const auto& info) { return info.param.codec; });

// Pushes `count` frames of the source clip into an opened encode stage.
void feed(SinkStage& sink, int count) {
  StageHarness decode("{type: decode}", context_in({}, false, source_clip()));
  auto& source = dynamic_cast<SourceStage&>(decode.stage());
  for (int i = 0; i < count; ++i) {
    auto frame = source.next();
    ASSERT_TRUE(frame);
    sink.consume(*frame);
  }
}

TEST_F(EncodeTest, WritesUnderAHiddenTemporaryNameUntilFinished) {
  StageHarness encode("{type: encode}", context_in(dir_));
  feed(dynamic_cast<SinkStage&>(encode.stage()), 5);
  const auto during = files_in(dir_);
  ASSERT_EQ(during.size(), 1u);
  EXPECT_EQ(during[0].rfind(".io_encode_source.partial-", 0), 0u) << during[0];
  encode.stage().finish();
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"io_encode_source.mp4"});
}

TEST_F(EncodeTest, AbortLeavesNoFile) {
  StageHarness encode("{type: encode}", context_in(dir_));
  feed(dynamic_cast<SinkStage&>(encode.stage()), 5);
  encode.stage().abort();
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(EncodeTest, DestroyingAnUnfinishedStageLeavesNoFile) {
  {
    StageHarness encode("{type: encode}", context_in(dir_));
    feed(dynamic_cast<SinkStage&>(encode.stage()), 5);
  }
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(EncodeTest, ZeroFramesIsAnErrorAndLeavesNoFile) {
  StageHarness encode("{type: encode}", context_in(dir_));
  try {
    encode.stage().finish();
    FAIL() << "finish() accepted zero frames";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no frames to encode"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(EncodeTest, ExistingOutputIsRefusedUnlessOverwrite) {
  const auto output = dir_ / "io_encode_source.mp4";
  std::ofstream(output) << "precious";
  try {
    StageHarness encode("{type: encode}", context_in(dir_, false, source_clip()));
    FAIL() << "open() accepted an existing output";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "output '" + output.string() + "' exists; set output.overwrite: true to replace it");
  }
  EXPECT_EQ(fs::file_size(output), 8u);

  transcode(source_clip(), "{type: encode}", dir_, true);
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{output.filename().string()});
  EXPECT_EQ(frame_count(output), frame_count(source_clip()));
}

TEST_F(EncodeTest, CreatesTheOutputFolderAndExpandsStem) {
  transcode(source_clip(), "{type: encode, params: {path: 'videos/{stem}-small.mkv'}}",
            dir_ / "out");
  EXPECT_EQ(probe_video(dir_ / "out/videos/io_encode_source-small.mkv", "stream=codec_name"),
            "h264");
}

// Builds the stage without config validation, so open() itself must catch bad names.
std::string open_error_unvalidated(const std::map<std::string, ParamValue>& overrides,
                                   const fs::path& dir) {
  Registry registry;
  stages::register_all(registry);
  const auto* info = registry.find("encode");
  std::map<std::string, ParamValue> values;
  for (const auto& spec : info->params) values[spec.name] = spec.default_value;
  for (const auto& [name, value] : overrides) values[name] = value;
  auto stage = info->create(StageSetup{"video", Params(values)});
  try {
    stage->open(context_in(dir));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(EncodeTest, BadNamesFailAtOpen) {
  EXPECT_EQ(open_error_unvalidated({{"codec", std::string("nope264")}}, dir_),
            "'codec': this FFmpeg has no video encoder 'nope264' (try libx264, mpeg4, ffv1 or "
            "libvpx-vp9)");
  EXPECT_EQ(open_error_unvalidated({{"path", std::string("{stem}.xyz")}}, dir_),
            "'path': no container format has the extension of '{stem}.xyz' (use .mp4, .mkv, "
            ".mov, .avi, .webm...)");
  EXPECT_EQ(open_error_unvalidated({{"codec", std::string("ffv1")}}, dir_),
            "'codec': container 'mp4' cannot hold codec 'ffv1'");
  EXPECT_EQ(open_error_unvalidated({{"pix_fmt", std::string("yuv420p")},
                                    {"codec", std::string("libx264")},
                                    {"path", std::string("{stem}.mkv")}},
                                   dir_),
            "(no error)");
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(EncodeTest, BadNamesFailConfigValidation) {
  Registry registry;
  stages::register_all(registry);
  try {
    load_stage_text("{type: encode, params: {codec: nope264, pix_fmt: yuv421p}}", registry);
    FAIL() << "validation accepted bad names";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_NE(e.problems()[0].find("nope264"), std::string::npos) << e.problems()[0];
    EXPECT_NE(e.problems()[1].find("yuv421p"), std::string::npos) << e.problems()[1];
  }
}

TEST_F(EncodeTest, EncodesGrayFrames) {
  {
    StageHarness encode("{type: encode, params: {path: gray.mkv, codec: ffv1}}", context_in(dir_));
    for (int i = 0; i < 10; ++i) {
      cv::Mat gray(120, 160, CV_8UC1, cv::Scalar(20 * i + 16));
      auto frame = make_frame(gray, i);
      dynamic_cast<SinkStage&>(encode.stage()).consume(frame);
    }
    encode.stage().finish();
  }
  StageHarness decode("{type: decode}", context_in(dir_, false, dir_ / "gray.mkv"));
  auto& source = dynamic_cast<SourceStage&>(decode.stage());
  int count = 0;
  while (auto frame = source.next()) {
    // Gray is full range, YUV limited: one level of rounding either way.
    const cv::Scalar expected(20 * count + 16, 20 * count + 16, 20 * count + 16);
    EXPECT_LE(cv::norm(frame->image(), cv::Mat(120, 160, CV_8UC3, expected), cv::NORM_INF), 1)
        << "frame " << count;
    ++count;
  }
  EXPECT_EQ(count, 10);
}

// Gray frames go into a planar YUV picture by table (stages/io/gray_yuv.h), not through
// swscale's scaler: the pictures must be the bytes the ffmpeg CLI's own gray -> YUV conversion
// (swscale) makes of the same frames, in 4:2:0 (with an odd size padded by repeating the last
// column and row) and 4:4:4. ffv1 is lossless, so the decoded output is the encoder's picture.
TEST_F(EncodeTest, GrayFramesBecomeTheBytesSwscaleMakes) {
  struct Case {
    std::string pix_fmt;
    cv::Size size;
  };
  for (const auto& [pix_fmt, size] :
       {Case{"yuv420p", {160, 96}}, Case{"yuv420p", {161, 97}}, Case{"yuv444p", {161, 97}}}) {
    const auto name = pix_fmt + "-" + std::to_string(size.width) + ".mkv";
    std::vector<cv::Mat> frames;
    cv::RNG rng(size.width);
    for (int i = 0; i < 3; ++i) {
      cv::Mat gray(size, CV_8UC1);
      rng.fill(gray, cv::RNG::UNIFORM, 0, 256);
      // Every level somewhere, noise elsewhere.
      for (int level = 0; level < 256; ++level)
        gray.at<std::uint8_t>(level / size.width, level % size.width) =
            static_cast<std::uint8_t>(level);
      frames.push_back(gray);
    }
    {
      StageHarness encode(
          "{type: encode, params: {path: " + name + ", codec: ffv1, pix_fmt: " + pix_fmt + "}}",
          context_in(dir_));
      for (int i = 0; i < 3; ++i) encode.push(make_frame(frames[static_cast<std::size_t>(i)], i));
      encode.finish();
    }
    // The reference: the same frames, padded as the encoder pads them, through the ffmpeg CLI.
    const cv::Size padded =
        pix_fmt == "yuv420p" ? cv::Size((size.width + 1) & ~1, (size.height + 1) & ~1) : size;
    const auto raw = dir_ / "gray.raw";
    {
      std::ofstream out(raw, std::ios::binary);
      for (const auto& frame : frames) {
        cv::Mat bigger;
        cv::copyMakeBorder(frame, bigger, 0, padded.height - size.height, 0,
                           padded.width - size.width, cv::BORDER_REPLICATE);
        out.write(reinterpret_cast<const char*>(bigger.data),
                  static_cast<std::streamsize>(bigger.total()));
      }
    }
    const auto reference =
        capture("ffmpeg -nostdin -v error -f rawvideo -pix_fmt gray -s " +
                std::to_string(padded.width) + "x" + std::to_string(padded.height) + " -i " +
                shell_quote(raw.string()) + " -f rawvideo -pix_fmt " + pix_fmt + " -");
    const auto encoded =
        capture("ffmpeg -nostdin -v error -i " + shell_quote((dir_ / name).string()) +
                " -f rawvideo -pix_fmt " + pix_fmt + " -");
    ASSERT_FALSE(reference.empty());
    EXPECT_EQ(encoded.size(), reference.size()) << name;
    EXPECT_TRUE(encoded == reference) << name;
  }
}

// yuv420p needs even sizes: by default the last column and row are repeated; crop drops them.
TEST_F(EncodeTest, FitsOddSizesTo420ByPaddingOrCropping) {
  for (const std::string mode : {"pad", "crop"}) {
    StageHarness encode("{type: encode, params: {path: " + mode + ".mp4, odd_size: " + mode + "}}",
                        context_in(dir_));
    for (int i = 0; i < 5; ++i) {
      auto frame = make_frame(cv::Mat(359, 641, CV_8UC3, cv::Scalar(10, 100, 200)), i);
      dynamic_cast<SinkStage&>(encode.stage()).consume(frame);
    }
    encode.stage().finish();
    EXPECT_EQ(frame_count(dir_ / (mode + ".mp4")), 5);
  }
  EXPECT_EQ(probe_video(dir_ / "pad.mp4", "stream=width,height"), "642,360");
  EXPECT_EQ(probe_video(dir_ / "crop.mp4", "stream=width,height"), "640,358");
}

// The audio stream's codec and its packet count, as ffprobe counts them.
std::string audio_codec_and_packets(const fs::path& path) {
  auto text = capture(
      "ffprobe -v error -count_packets -select_streams a:0 -show_entries "
      "stream=codec_name,nb_read_packets -of csv=p=0 " +
      shell_quote(path.string()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ',')) text.pop_back();
  return text;
}

// `framepipe run configs/default.yaml -i - -o out < clip.mkv`: decode reads standard input (the
// only time the input is read) and encode copies the audio from the packets decode publishes;
// outputs are named after "stdin". libav's name for standard input, pipe:0, works the same.
TEST_F(EncodeTest, StandardInputIsEncodedWithItsAudioCopied) {
  const auto input = testing::make_clip(
      "io_stdin_av.mkv",
      "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -f lavfi "
      "-i sine=frequency=440:sample_rate=44100:duration=2 -c:v libx264 -preset veryfast "
      "-pix_fmt yuv420p -c:a aac -b:a 64k");
  const auto config = fs::path(FRAMEPIPE_SOURCE_DIR) / "configs/default.yaml";
  const auto expected_audio = audio_codec_and_packets(input);
  ASSERT_EQ(expected_audio.substr(0, 4), "aac,") << expected_audio;
  for (const std::string name : {"-", "pipe:0"}) {
    SCOPED_TRACE(name);
    const auto out = dir_ / (name == "-" ? "dash" : "pipe");
    const auto result = testing::run_shell(
        shell_quote(FRAMEPIPE_BINARY) + " run " + shell_quote(config.string()) + " -i " + name +
        " -o " + shell_quote(out.string()) + " -q < " + shell_quote(input.string()));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto output = out / "stdin-edges.mp4";
    ASSERT_TRUE(fs::exists(output)) << result.output;
    EXPECT_EQ(frame_count(output), frame_count(input));
    EXPECT_EQ(frame_count(output), 50);
    EXPECT_EQ(audio_codec_and_packets(output), expected_audio);
  }
}

// Two encoders of one run each get every audio packet decode read: neither takes the other's.
TEST_F(EncodeTest, TwoEncodersBothCopyTheWholeAudio) {
  const auto input = testing::make_clip(
      "io_stdin_av.mkv",
      "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -f lavfi "
      "-i sine=frequency=440:sample_rate=44100:duration=2 -c:v libx264 -preset veryfast "
      "-pix_fmt yuv420p -c:a aac -b:a 64k");
  const auto config = dir_ / "two.yaml";
  std::ofstream(config) << "stages:\n"
                           "  - {name: decode, type: decode}\n"
                           "  - {name: first, type: encode, params: {codec: mpeg4, path: a.mp4}}\n"
                           "  - {name: second, type: encode, input: decode, "
                           "params: {codec: mpeg4, path: b.mkv}}\n";
  const auto out = dir_ / "out";
  const auto result = testing::run_shell(
      shell_quote(FRAMEPIPE_BINARY) + " run " + shell_quote(config.string()) + " -i " +
      shell_quote(input.string()) + " -o " + shell_quote(out.string()) + " -q");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto expected_audio = audio_codec_and_packets(input);
  EXPECT_EQ(audio_codec_and_packets(out / "a.mp4"), expected_audio);
  EXPECT_EQ(audio_codec_and_packets(out / "b.mkv"), expected_audio);
  EXPECT_EQ(frame_count(out / "a.mp4"), 50);
  EXPECT_EQ(frame_count(out / "b.mkv"), 50);
}

}  // namespace
}  // namespace framepipe
