// What a batch or a run must never do to files that already exist: let two inputs write one
// output, replace an input with an output, lose the images of an earlier run when a rerun
// fails, or pass a truncated input off as complete.
#include <gtest/gtest.h>

#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

// small_clip() in a Matroska container: the same stem as a .mp4 beside it.
fs::path small_mkv() {
  return make_clip("reliability-64x48-10f.mkv",
                   "-f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

class DataLossTest : public FoldersTest {
 protected:
  DataLossTest() : FoldersTest("framepipe-data-loss") {}
  void SetUp() override {
    FoldersTest::SetUp();
    config_ = write_file(dir_ / "p.yaml",
                         "stages:\n  - {type: decode}\n  - {name: video, type: encode, params: "
                         "{codec: mpeg4, path: \"{stem}-x.avi\"}}\n");
  }
  // stdout and stderr, or stderr alone.
  CommandResult run(const std::string& args, bool stderr_only = false) {
    const auto command =
        shell_quote(kBinary) + " run " + shell_quote(config_.string()) + " -q " + args;
    return run_shell(stderr_only ? "(" + command + " 2>&1 >/dev/null)" : command);
  }

  // small_clip() as MPEG-4 in AVI at `path`, the name the config's output template gives.
  static bool write_mpeg4_avi(const fs::path& path) {
    return run_shell("ffmpeg -v error -y -i " + shell_quote(small_clip().string()) +
                     " -c:v mpeg4 " + shell_quote(path.string()))
               .exit_code == 0;
  }

  fs::path config_;
};

// clip.mp4 and clip.mkv both make clip-x.avi: refused before anything runs, naming both inputs
// and the output; with {ext} in the name both are written.
TEST_F(DataLossTest, TwoInputsOfAFolderThatWouldWriteOneOutputAreRefusedUpFront) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  fs::copy_file(small_mkv(), in_ / "clip.mkv");
  for (const auto* overwrite : {"false", "true"}) {
    const auto result = run("-i " + shell_quote(in_.string()) + " -o " +
                            shell_quote(out_.string()) + " --set output.overwrite=" + overwrite);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find((in_ / "clip.mkv").string()), std::string::npos) << result.output;
    EXPECT_NE(result.output.find((in_ / "clip.mp4").string()), std::string::npos) << result.output;
    EXPECT_NE(result.output.find((out_ / "clip-x.avi").string()), std::string::npos)
        << result.output;
    EXPECT_EQ(lines_of(result.output).size(), 1u) << result.output;
    EXPECT_TRUE(files_under(out_).empty()) << "nothing ran";
  }
  const auto apart = run("-i " + shell_quote(in_.string()) + " -o " + shell_quote(out_.string()) +
                         " --set 'stages.video.params.path=\"{stem}-{ext}.avi\"'");
  EXPECT_EQ(apart.exit_code, 0) << apart.output;
  EXPECT_TRUE(fs::exists(out_ / "clip-mp4.avi"));
  EXPECT_TRUE(fs::exists(out_ / "clip-mkv.avi"));
}

// d1/same.mp4 and d2/same.mp4 in a list both go under their file name: the outputs and the
// per-file report folders would collide.
TEST_F(DataLossTest, TwoListedInputsWithOneFileNameAreRefusedUpFront) {
  fs::create_directories(in_ / "d1");
  fs::create_directories(in_ / "d2");
  fs::copy_file(small_clip(), in_ / "d1/same.mp4");
  fs::copy_file(small_clip(), in_ / "d2/same.mp4");
  const auto list = write_file(dir_ / "list.txt", (in_ / "d1/same.mp4").string() + "\n" +
                                                      (in_ / "d2/same.mp4").string() + "\n");
  const auto result = run("--input-list " + shell_quote(list.string()) + " -o " +
                          shell_quote(out_.string()) + " --set output.overwrite=true");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("'" + (in_ / "d1/same.mp4").string() + "' and '" +
                               (in_ / "d2/same.mp4").string() + "' would both write '" +
                               (out_ / "same-x.avi").string() + "'"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("the report folder '" + (out_ / "report/same.mp4").string() + "'"),
            std::string::npos)
      << result.output;
  EXPECT_TRUE(files_under(out_).empty()) << "nothing ran";
}

// An output whose path is the input's, or another name of the same file (a hard link), is
// refused as ffmpeg refuses `ffmpeg -i a.avi a.avi`; the input is left byte for byte.
TEST_F(DataLossTest, AnOutputThatIsTheInputIsRefused) {
  const auto input = in_ / "clip-x.avi";
  ASSERT_TRUE(write_mpeg4_avi(input));
  const auto before = read_text(input);
  // The same path: the output folder is the input's and the template names the input.
  const auto same = run("-i " + shell_quote(input.string()) + " -o " + shell_quote(in_.string()) +
                        " --set output.overwrite=true --set "
                        "'stages.video.params.path=\"{stem}.avi\"'");
  EXPECT_EQ(same.exit_code, 2) << same.output;
  EXPECT_NE(same.output.find("is the input '" + input.string() + "'"), std::string::npos)
      << same.output;
  // The same file under another name in the output folder.
  fs::create_directories(out_);
  fs::create_hard_link(input, out_ / "clip-x.avi");
  const auto linked =
      run("-i " + shell_quote(input.string()) + " -o " + shell_quote(out_.string()) +
          " --set output.overwrite=true --set "
          "'stages.video.params.path=\"{stem}.avi\"'");
  EXPECT_EQ(linked.exit_code, 2) << linked.output;
  EXPECT_NE(linked.output.find("is the input '" + input.string() + "'"), std::string::npos)
      << linked.output;
  EXPECT_EQ(read_text(input), before);
}

// The same refusal through symbolic links: an output folder that is a link to the input's
// folder, and an output name that is a link to the input (the check resolves a folder once and
// each name in it by itself, so both a linked folder and a linked name must still be seen).
TEST_F(DataLossTest, AnOutputThatIsTheInputThroughSymbolicLinksIsRefused) {
  const auto input = in_ / "clip-x.avi";
  ASSERT_TRUE(write_mpeg4_avi(input));
  const auto before = read_text(input);
  const auto linked_folder = dir_ / "linked-in";
  fs::create_directory_symlink(in_, linked_folder);
  const auto through_folder =
      run("-i " + shell_quote(input.string()) + " -o " + shell_quote(linked_folder.string()) +
          " --set output.overwrite=true --set 'stages.video.params.path=\"{stem}.avi\"'");
  EXPECT_EQ(through_folder.exit_code, 2) << through_folder.output;
  EXPECT_NE(through_folder.output.find("is the input '" + input.string() + "'"), std::string::npos)
      << through_folder.output;
  fs::create_directories(out_);
  fs::create_symlink(input, out_ / "clip-x.avi");
  const auto through_name =
      run("-i " + shell_quote(input.string()) + " -o " + shell_quote(out_.string()) +
          " --set output.overwrite=true --set 'stages.video.params.path=\"{stem}.avi\"'");
  EXPECT_EQ(through_name.exit_code, 2) << through_name.output;
  EXPECT_NE(through_name.output.find("is the input '" + input.string() + "'"), std::string::npos)
      << through_name.output;
  EXPECT_EQ(read_text(input), before);
}

// A batch over in/ writing into in/out/ would take its own outputs as inputs next time: refused
// (docs/reliability.md: refused, not excluded from the scan).
TEST_F(DataLossTest, AnOutputFolderInsideTheScannedInputFolderIsRefused) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  for (const auto& output : {in_ / "out", in_}) {
    const auto result =
        run("-i " + shell_quote(in_.string()) + " -o " + shell_quote(output.string()));
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find("is inside the input folder"), std::string::npos) << result.output;
  }
  EXPECT_EQ(files_under(in_), std::vector<fs::path>{in_ / "clip.mp4"});
}

// A rerun with overwrite: true that fails halfway leaves the images of the run before it: the
// new images are put in place only when the run completes.
TEST_F(DataLossTest, AFailedRerunOfWriteImagesKeepsTheEarlierImages) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  const auto images = write_file(dir_ / "images.yaml",
                                 "output: {overwrite: true}\nstages:\n  - {type: decode}\n  - "
                                 "{type: write_images, params: {path: \"{stem}/{frame}.png\"}}\n");
  const auto failing = write_file(dir_ / "failing.yaml",
                                  "output: {overwrite: true}\nstages:\n  - {type: decode}\n  - "
                                  "{type: fail, params: {at_frame: 6}}\n  - {type: write_images, "
                                  "params: {path: \"{stem}/{frame}.png\"}}\n");
  const auto run_images = [&](const fs::path& config) {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote(config.string()) + " -q -i " +
                     shell_quote((in_ / "clip.mp4").string()) + " -o " +
                     shell_quote(out_.string()));
  };
  const auto first = run_images(images);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  std::vector<fs::path> written;
  for (int i = 0; i < 10; ++i) written.push_back(out_ / "clip" / (std::to_string(i) + ".png"));
  std::vector<std::string> contents;
  for (const auto& image : written) {
    ASSERT_TRUE(fs::exists(image)) << image;
    contents.push_back(read_text(image));
  }
  // The rerun writes images of frames 0-5 (and maybe more) before frame 6 fails.
  const auto failed = run_images(failing);
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  for (std::size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(read_text(written[i]), contents[i]) << written[i];
  }
  EXPECT_TRUE(hidden_leftovers(out_ / "clip").empty());
}

// A truncated input run as a single file: it still exits 0 with the frames it had, but says so
// on one line and its report.json says "damaged" (the batch already did).
TEST_F(DataLossTest, ATruncatedInputRunAloneIsReportedDamaged) {
  // The index first (faststart), so what is left still opens, and ends inside a packet.
  const auto clip = in_ / "cut.mp4";
  fs::copy_file(make_clip("reliability-64x48-100f-faststart.mp4",
                          "-f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 100 -c:v libx264 "
                          "-preset ultrafast -pix_fmt yuv420p -movflags +faststart"),
                clip);
  fs::resize_file(clip, fs::file_size(clip) * 2 / 3);
  const auto decoded = frame_count(clip.string());
  ASSERT_GT(decoded, 0);
  ASSERT_LT(decoded, 100);
  // stderr alone: the warning is its only line.
  const auto result =
      run("-i " + shell_quote(clip.string()) + " -o " + shell_quote(out_.string()), true);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto lines = lines_of(result.output);
  ASSERT_EQ(lines.size(), 1u) << result.output;
  EXPECT_TRUE(lines[0].starts_with("warning: " + clip.string() + ": damaged: ")) << lines[0];
  EXPECT_NE(lines[0].find(" of 100 frames decoded"), std::string::npos) << lines[0];
  const auto report = read_json(out_ / "report/report.json");
  EXPECT_EQ(report["status"], "damaged");
  EXPECT_EQ(report["ok"], true);

  const auto whole = run("-i " + shell_quote(small_clip().string()) + " -o " +
                         shell_quote((dir_ / "whole").string()));
  EXPECT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(whole.output.find("warning"), std::string::npos) << whole.output;
  EXPECT_EQ(read_json(dir_ / "whole/report/report.json")["status"], "ok");
}

}  // namespace
}  // namespace framepipe::testing::reliability
