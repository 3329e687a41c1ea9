// A graph rewrite keeps the output: blur -> gray run as written and as rewritten (gray first,
// from the decoder's luma plane, then the blur on one channel) write videos within 45 dB PSNR of
// each other, as the ffmpeg CLI's psnr filter measures them (50 dB on this clip); the edge maps
// Canny finds on them differ in a few pixels. The report and the terminal summary name the
// rewrite, and `pipeline.rewrites: false` runs the stages as written.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

using reliability::kBinary;

// 25 frames of colour bars, gradients and moving shapes, 320x240, H.264.
fs::path colour_clip() {
  return make_clip("rewrite-320x240.mp4",
                   "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libx264 "
                   "-preset ultrafast -pix_fmt yuv420p");
}

class RewriteOutputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-rewrite"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `stages` (ending in an ffv1 encode into {stem}.mkv, lossless) over the clip into
  // dir_/NAME; returns the run's output (summary on stderr).
  std::string run(const std::string& name, const std::string& stages, const std::string& set = "") {
    const auto config = dir_ / (name + ".yaml");
    std::ofstream(config) << "pipeline: {threads: 2}\nreport: {formats: [json]}\nstages:\n"
                          << stages
                          << "  - {name: video, type: encode, params: {codec: ffv1, path: "
                             "'{stem}.mkv'}}\n";
    const auto result = run_shell(shell_quote(kBinary) + " run " + shell_quote(config.string()) +
                                  " --input " + shell_quote(colour_clip().string()) + " --output " +
                                  shell_quote((dir_ / name).string()) + " " + set + " 2>&1");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  }

  fs::path output(const std::string& name) { return dir_ / name / "rewrite-320x240.mkv"; }
  nlohmann::json report(const std::string& name) {
    return read_json(dir_ / name / "report" / "report.json");
  }

  fs::path dir_;
};

const std::string kBlurGray =
    "  - {name: decode, type: decode}\n"
    "  - {name: blur, type: gaussian_blur, params: {ksize: 5, sigma: 2}}\n"
    "  - {name: gray, type: grayscale}\n";

TEST_F(RewriteOutputTest, BlurThenGrayKeepsItsOutputWithin45Db) {
  const auto summary = run("on", kBlurGray);
  run("off", kBlurGray, "--set pipeline.rewrites=false");
  EXPECT_GE(psnr(output("on"), output("off")), 45.0);

  EXPECT_NE(summary.find("rewrite gray_before_filter: 'gray' now runs before 'blur'"),
            std::string::npos)
      << summary;
  const auto on = report("on");
  ASSERT_EQ(on["rewrites"].size(), 1u);
  EXPECT_EQ(on["rewrites"][0]["name"], "gray_before_filter");
  EXPECT_EQ(on["stages"][1]["name"], "gray");
  EXPECT_EQ(on["stages"][2]["name"], "blur");
  // The effective config in the report is the one written.
  EXPECT_EQ(on["config"]["stages"][1]["name"], "blur");

  const auto off = report("off");
  EXPECT_TRUE(off["rewrites"].empty());
  EXPECT_EQ(off["stages"][1]["name"], "blur");
  EXPECT_EQ(off["stages"][2]["name"], "gray");
}

// Canny thresholds the blurred gray, so a level of rounding moves edge pixels (a tie in its
// non-maximum suppression, a gradient on a threshold): no PSNR bound holds for an edge map. What
// holds: the maps agree on all but a small share of pixels (0.3% on this clip), counted on the
// frames as the ffmpeg CLI decodes them.
TEST_F(RewriteOutputTest, BlurGrayCannyEdgeMapsAgreeButForRounding) {
  const auto edges = kBlurGray + "  - {name: edges, type: canny, params: {low: 50, high: 150}}\n";
  run("on", edges);
  run("off", edges, "--set pipeline.rewrites=false");
  EXPECT_EQ(report("on")["rewrites"].size(), 1u);
  const auto gray = [](const fs::path& video) {
    return capture("ffmpeg -nostdin -v error -i " + shell_quote(video.string()) +
                   " -f rawvideo -pix_fmt gray -");
  };
  const auto on = gray(output("on"));
  const auto off = gray(output("off"));
  ASSERT_EQ(on.size(), off.size());
  ASSERT_EQ(on.size(), 25u * 320 * 240);
  std::size_t edge_pixels = 0, differing = 0;
  for (std::size_t i = 0; i < on.size(); ++i) {
    const int a = static_cast<unsigned char>(on[i]), b = static_cast<unsigned char>(off[i]);
    edge_pixels += b > 128;
    differing += std::abs(a - b) > 64;
  }
  EXPECT_GT(edge_pixels, on.size() / 50) << "the clip should have edges to find";
  EXPECT_LT(differing, on.size() / 100) << differing << " of " << on.size() << " pixels differ";
}

}  // namespace
}  // namespace framepipe::testing
