// Inputs and settings that crashed or hung framepipe (issue 19): a symlink loop, a FIFO named
// like a video, a udp:// URL, a text file, a name that is not UTF-8, more threads than the
// system gives, huge pictures and thumbnails. Each now ends in one clear line (or a good run),
// within a bound, and a bad file of a batch fails alone.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <opencv2/imgcodecs.hpp>

#include "pipeline/json_text.h"
#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

using namespace std::chrono_literals;

struct BoundedRun {
  std::optional<int> exit_code;  // nullopt: it hung (killed at the bound) or crashed
  std::string errors;            // its stderr
};

std::string read_text(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

class HostileInputTest : public FoldersTest {
 protected:
  HostileInputTest() : FoldersTest("framepipe-hostile") {}
  void SetUp() override {
    FoldersTest::SetUp();
    use_config(
        "stages:\n  - {type: decode}\n  - {type: encode, params: {codec: mpeg4, path: "
        "\"{stem}.avi\"}}\n");
  }
  void use_config(const std::string& yaml) { config_ = write_file(dir_ / "p.yaml", yaml); }

  // `framepipe run CONFIG -o OUT -q ARGS...`, killed after `bound`.
  BoundedRun run(const std::vector<std::string>& args, std::chrono::milliseconds bound = 60s) {
    std::vector<std::string> all = {"run", config_.string(), "-o", out_.string(), "-q"};
    all.insert(all.end(), args.begin(), args.end());
    const auto errors = dir_ / "stderr.txt";
    const pid_t pid = spawn_framepipe(all, errors);
    EXPECT_GT(pid, 0);
    const auto code = wait_bounded(pid, bound);
    return {code, read_text(errors)};
  }

  // The same as a prefix command (e.g. prlimit), through the shell.
  CommandResult run_under(const std::string& prefix, const std::string& args) {
    return run_shell(prefix + " " + shell_quote(kBinary) + " run " + shell_quote(config_.string()) +
                     " -o " + shell_quote(out_.string()) + " -q " + args + " 2>&1");
  }

  fs::path config_;
};

int line_count(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(HostileInputTest, SymlinkLoopIsOneLineAloneAndInABatch) {
  fs::create_symlink("b.mp4", in_ / "a.mp4");
  fs::create_symlink("a.mp4", in_ / "b.mp4");
  const auto single = run({"-i", (in_ / "a.mp4").string()});
  ASSERT_EQ(single.exit_code, 1) << single.errors;
  EXPECT_EQ(line_count(single.errors), 1) << single.errors;
  EXPECT_NE(single.errors.find("a.mp4"), std::string::npos) << single.errors;
  EXPECT_NE(single.errors.find("symbolic links"), std::string::npos) << single.errors;

  // In a folder: the loops fail, each with its name, and the good clip is made.
  fs::copy_file(small_clip(), in_ / "good.mp4");
  const auto batch = run({"-i", in_.string()});
  ASSERT_EQ(batch.exit_code, 1) << batch.errors;
  EXPECT_TRUE(fs::exists(out_ / "good.avi"));
  EXPECT_NE(batch.errors.find("a.mp4"), std::string::npos) << batch.errors;
  EXPECT_NE(batch.errors.find("b.mp4"), std::string::npos) << batch.errors;
}

TEST_F(HostileInputTest, FifoIsRefusedUpFrontAloneAndInABatch) {
  ASSERT_EQ(mkfifo((in_ / "pipe.mp4").c_str(), 0644), 0);
  const auto single = run({"-i", (in_ / "pipe.mp4").string()}, 20s);
  ASSERT_EQ(single.exit_code, 1) << "hung or crashed: " << single.errors;
  EXPECT_EQ(line_count(single.errors), 1) << single.errors;
  EXPECT_NE(single.errors.find("pipe.mp4': it is a FIFO (named pipe), not a regular file"),
            std::string::npos)
      << single.errors;

  fs::copy_file(small_clip(), in_ / "good.mp4");
  const auto batch = run({"-i", in_.string()}, 20s);
  ASSERT_EQ(batch.exit_code, 1) << "hung or crashed: " << batch.errors;
  EXPECT_TRUE(fs::exists(out_ / "good.avi"));
  EXPECT_NE(batch.errors.find("FIFO"), std::string::npos) << batch.errors;
}

// A worker blocked in a call nothing interrupts (here the sleep stage's 60 s sleep_for) must
// not keep a cancelled batch alive: it ends within seconds of SIGTERM, with exit code 130.
TEST_F(HostileInputTest, BatchStopsWithinSecondsOfSigtermWhileAWorkerIsBlocked) {
  use_config(
      "pipeline: {files_in_parallel: 2}\n"
      "stages:\n  - {type: decode}\n  - {type: sleep, params: {ms: 60000}}\n"
      "  - {type: discard}\n");
  add_clips(3);
  const pid_t pid =
      spawn_framepipe({"run", config_.string(), "-i", in_.string(), "-o", out_.string(), "-q"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_sigint_handler(pid, 20s));
  std::this_thread::sleep_for(1s);  // both workers are in the sleep stage by now
  const auto signalled = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  const auto code = wait_bounded(pid, 15s);
  EXPECT_EQ(code, 130);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 12s);
}

TEST_F(HostileInputTest, OnlyHttpAndHttpsUrlsAreRead) {
  for (const std::string url : {"udp://127.0.0.1:9/x.mp4", "rtmp://127.0.0.1/live",
                                "file:///etc/hostname", "ftp://127.0.0.1/a.mp4"}) {
    const auto result = run({"-i", url}, 20s);
    ASSERT_EQ(result.exit_code, 1) << url << " hung or crashed: " << result.errors;
    EXPECT_EQ(line_count(result.errors), 1) << result.errors;
    EXPECT_NE(result.errors.find("only http:// and https:// URLs are read"), std::string::npos)
        << result.errors;
  }
}

// libav's tty demuxer renders any text of some length as pictures (a 50-line list became a
// video): a text file is refused, and one that lists videos gets a hint, also when it is too
// short for libav to take it for anything.
TEST_F(HostileInputTest, TextFileIsNotAVideoAndAListGetsAHint) {
  std::string lorem, paths;
  for (int i = 0; i < 200; ++i) lorem += "Lorem ipsum dolor sit amet\n";
  for (int i = 0; i < 50; ++i) paths += "clips/clip" + std::to_string(i) + ".mp4\n";
  const auto notes = write_file(in_ / "notes.txt", lorem);
  const auto text = run({"-i", notes.string()});
  ASSERT_EQ(text.exit_code, 1) << text.errors;
  EXPECT_EQ(line_count(text.errors), 1) << text.errors;
  EXPECT_NE(text.errors.find("notes.txt': it is text, not a video"), std::string::npos)
      << text.errors;
  EXPECT_EQ(text.errors.find("--input-list"), std::string::npos) << text.errors;
  EXPECT_FALSE(fs::exists(out_ / "notes.avi"));

  for (const auto& list : {write_file(in_ / "todo.txt", "# to process\n\n" + paths),
                           write_file(in_ / "short.txt", "clips/a.mp4\nclips/b.MKV\n")}) {
    const auto listed = run({"-i", list.string()});
    ASSERT_EQ(listed.exit_code, 1) << listed.errors;
    EXPECT_EQ(line_count(listed.errors), 1) << listed.errors;
    EXPECT_NE(listed.errors.find("(it looks like a list of inputs: use --input-list)"),
              std::string::npos)
        << listed.errors;
  }
  EXPECT_FALSE(fs::exists(out_ / "todo.avi"));
}

// nlohmann-json throws on a string that is not UTF-8: a file name with such bytes crashed the
// report and, in a batch, the manifest on a worker thread. Names are escaped (json_text.h) and
// read back as the same bytes: --resume finds both files complete.
TEST_F(HostileInputTest, NamesThatAreNotUtf8RoundTripThroughReportsAndManifest) {
  const auto bad = in_ / "bad\xFF\xFE name.mp4";
  fs::copy_file(small_clip(), bad);
  const auto single = run({"-i", bad.string()});
  ASSERT_EQ(single.exit_code, 0) << single.errors;
  const auto report = nlohmann::json::parse(read_text(out_ / "report" / "report.json"));
  EXPECT_EQ(unescape_invalid_utf8(report.at("input").get<std::string>()), bad.string());
  EXPECT_TRUE(fs::exists(out_ / "bad\xFF\xFE name.avi"));
  fs::remove_all(out_);

  fs::copy_file(small_clip(), in_ / "good.mp4");
  const auto batch = run({"-i", in_.string()});
  ASSERT_EQ(batch.exit_code, 0) << batch.errors;
  const auto batch_json = nlohmann::json::parse(read_text(out_ / "report" / "batch.json"));
  EXPECT_EQ(batch_json["totals"]["ok"], 2);
  const auto manifest = nlohmann::json::parse(read_text(out_ / ".framepipe-manifest.json"));
  EXPECT_EQ(manifest["files"].size(), 2u);
  const auto resumed = run({"-i", in_.string(), "--resume"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.errors;
  const auto again = nlohmann::json::parse(read_text(out_ / "report" / "batch.json"));
  EXPECT_EQ(again["totals"]["skipped"], 2) << again.dump(2);
}

TEST_F(HostileInputTest, IoThreadsOfABatchAreBoundedInValidation) {
  use_config(
      "pipeline: {files_in_parallel: 64}\n"
      "stages:\n  - {type: decode}\n  - {type: sleep, concurrency: 1024, params: {ms: 0}}\n"
      "  - {type: discard}\n");
  const auto result =
      run_shell(shell_quote(kBinary) + " validate " + shell_quote(config_.string()) + " 2>&1");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("p.yaml:1:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("= 65536 threads, more than 4096"), std::string::npos)
      << result.output;
}

// Within the bound, the system may still refuse threads: here its address space is too small
// for 1000 stacks. The run fails with one line instead of aborting on std::system_error.
TEST_F(HostileInputTest, ThreadTheSystemRefusesIsOneLineNotAnAbort) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space at start-up, so an "
                  "address-space limit stops it before main(); the plain suite runs this";
#endif
  use_config(
      "stages:\n  - {type: decode}\n  - {type: sleep, concurrency: 1000, params: {ms: 0}}\n"
      "  - {type: discard}\n");
  const auto result =
      run_under("prlimit --as=3000000000", "-i " + shell_quote(small_clip().string()));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(line_count(result.output), 1) << result.output;
  EXPECT_NE(result.output.find("cannot start a thread for io thread #"), std::string::npos)
      << result.output;
}

TEST_F(HostileInputTest, DecodeRefusesPicturesLargerThanItsPixelCap) {
  const auto capped =
      run({"-i", small_clip().string(), "--set", "stages.decode.params.max_pixels=3071"});
  ASSERT_EQ(capped.exit_code, 1) << capped.errors;
  EXPECT_NE(capped.errors.find("its pictures are 64x48 (3072 pixels), more than decode's "
                               "max_pixels 3071"),
            std::string::npos)
      << capped.errors;
  EXPECT_EQ(
      run({"-i", small_clip().string(), "--set", "stages.decode.params.max_pixels=3072"}).exit_code,
      0);
  // A small file can declare a huge picture: past 8K UHD by default.
  const auto big = make_clip("reliability-8000x4400.mkv",
                             "-f lavfi -i color=c=black:size=8000x4400 -frames:v 1 -c:v png");
  const auto refused = run({"-i", big.string()});
  ASSERT_EQ(refused.exit_code, 1) << refused.errors;
  EXPECT_NE(refused.errors.find("8000x4400 (35200000 pixels), more than decode's max_pixels"),
            std::string::npos)
      << refused.errors;
}

// A 2x2000 clip gave 320x320000 thumbnails (~1 GB); they now fit max_thumb_height.
TEST_F(HostileInputTest, ContactSheetThumbnailsOfATallClipAreBounded) {
  use_config(
      "stages:\n  - {type: decode}\n  - {type: contact_sheet, params: {path: sheet.png, "
      "columns: 2, rows: 1, timestamps: false}}\n");
  const auto tall = make_clip("reliability-2x2000.mp4",
                              "-f lavfi -i color=c=white:size=2x2000:rate=10 -frames:v 2 -c:v "
                              "libx264 -preset ultrafast -pix_fmt yuv420p");
  const auto result = run({"-i", tall.string()});
  ASSERT_EQ(result.exit_code, 0) << result.errors;
  const auto sheet = cv::imread((out_ / "sheet.png").string());
  // Two 1x960 thumbnails (960 / 1000 rounds to 1 pixel wide) with 4-pixel gaps.
  EXPECT_EQ(sheet.size(), cv::Size(4 + 2 * (1 + 4), 4 + 960 + 4));

  use_config(
      "stages:\n  - {type: decode}\n  - {type: contact_sheet, params: {columns: 64, rows: 64, "
      "thumb_width: 4096}}\n");
  const auto refused =
      run_shell(shell_quote(kBinary) + " validate " + shell_quote(config_.string()) + " 2>&1");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("the sheet could be 262404x61700 pixels"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace framepipe::testing::reliability
