// URL inputs (libav's http protocol) through the framepipe binary, against a loopback server
// this test starts: frame counts match ffprobe, a batch mixes local paths and URLs, and a
// server that breaks a transfer, stalls or answers 404 fails that file alone, naming its URL.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/inputs.h"
#include "tests/reliability/cli_helpers.h"
#include "tests/support/loopback_servers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class NetworkInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-netin");
    root_ = dir_ / "served";
    fs::create_directories(root_);
    // Two MP4s with the index at the end (libav seeks for it: Range requests), and a larger
    // one with the index first, so the dropped transfer breaks inside the frames.
    fs::copy_file(make_clip("net-20f.mp4",
                            "-f lavfi -i testsrc2=size=64x48:rate=10:duration=2 -c:v libx264 "
                            "-preset ultrafast -pix_fmt yuv420p"),
                  root_ / "twenty.mp4");
    fs::copy_file(make_clip("net-35f.mp4",
                            "-f lavfi -i testsrc2=size=96x64:rate=10:duration=3.5 -c:v libx264 "
                            "-preset ultrafast -pix_fmt yuv420p"),
                  root_ / "thirty-five.mp4");
    fs::copy_file(make_clip("net-faststart-60f.mp4",
                            "-f lavfi -i testsrc2=size=320x240:rate=10:duration=6 -c:v libx264 "
                            "-preset ultrafast -pix_fmt yuv420p -movflags +faststart"),
                  root_ / "big.mp4");
    config_ = dir_ / "net.yaml";
    std::ofstream(config_)
        << "pipeline: {files_in_parallel: 2}\n"
           "stages:\n"
           "  - {type: decode, params: {network_timeout_ms: 1500, network_retries: 1}}\n"
           "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  CommandResult run(const std::string& args) {
    return run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " + shell_quote(config_.string()) +
                     " --quiet " + args);
  }
  CommandResult run_list(const std::vector<std::string>& lines, const fs::path& out) {
    std::ofstream list(dir_ / "list.txt");
    for (const auto& line : lines) list << line << "\n";
    list.close();
    return run("--input-list " + shell_quote((dir_ / "list.txt").string()) + " --output " +
               shell_quote(out.string()));
  }

  fs::path dir_, root_, config_;
};

TEST(InputListTest, UrlsAreKeptAsTheyAreAndNamedByTheirLastPathSegment) {
  std::istringstream list(
      "http://example.com/videos/clip.mp4?token=a/b\nrelative.mp4\nhttps://h:8443/x/y.mkv#t=3\n");
  const auto inputs = read_input_list(list, "/base");
  ASSERT_EQ(inputs.size(), 3u);
  EXPECT_EQ(inputs[0].path, "http://example.com/videos/clip.mp4?token=a/b");
  EXPECT_EQ(inputs[0].relative, "clip.mp4");
  EXPECT_EQ(inputs[1].path, "/base/relative.mp4");
  EXPECT_EQ(inputs[2].path, "https://h:8443/x/y.mkv#t=3");
  EXPECT_EQ(inputs[2].relative, "y.mkv");
  EXPECT_TRUE(is_url("http://a/b"));
  EXPECT_FALSE(is_url("videos/http:/x.mp4"));
  EXPECT_FALSE(is_url("/abs/clip.mp4"));
}

TEST_F(NetworkInputTest, SingleUrlDecodesEveryFrameAndNamesTheOutputAfterIt) {
  HttpTestServer server(root_);
  const auto url = server.url("/files/thirty-five.mp4");
  const auto result =
      run("--input " + shell_quote(url) + " --output " + shell_quote((dir_ / "out").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(frame_count((dir_ / "out/thirty-five.avi").string()), frame_count(url));
  EXPECT_EQ(frame_count(url), 35);
}

// Decode is the only stage that reads the input: a URL run that copies the audio into its output
// asks the server for the file once (before, encode opened it a second time for the audio).
TEST_F(NetworkInputTest, AUrlIsRequestedOnceEvenWhenItsAudioIsCopied) {
  // The index first, so reading the file front to back needs no Range request.
  fs::copy_file(make_clip("net-faststart-av.mp4",
                          "-f lavfi -i testsrc2=size=96x64:rate=10:duration=3 -f lavfi "
                          "-i sine=frequency=440:sample_rate=44100:duration=3 -c:v libx264 "
                          "-preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 64k "
                          "-movflags +faststart"),
                root_ / "with-audio.mp4");
  std::ofstream(config_) << "stages:\n"
                            "  - {type: decode}\n"
                            "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.mp4\"}}\n";
  HttpTestServer server(root_);
  const auto out = dir_ / "out";
  const auto result = run("--input " + shell_quote(server.url("/files/with-audio.mp4")) +
                          " --output " + shell_quote(out.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(server.log().size(), 1u) << "requests: " << [&] {
    std::string all;
    for (const auto& entry : server.log()) all += entry.dump() + " ";
    return all;
  }();

  const auto packets = [](const fs::path& path) {
    return capture(
        "ffprobe -v error -count_packets -select_streams a:0 -show_entries "
        "stream=codec_name,nb_read_packets -of csv=p=0 " +
        shell_quote(path.string()));
  };
  const auto local = root_ / "with-audio.mp4";
  EXPECT_EQ(packets(out / "with-audio.mp4"), packets(local));
  EXPECT_EQ(frame_count((out / "with-audio.mp4").string()), frame_count(local.string()));
}

TEST_F(NetworkInputTest, BatchMixesLocalFilesAndUrlsAndABrokenTransferFailsAlone) {
  // Every answer of the server comes 100 ms late.
  HttpTestServer server(root_, 100);
  fs::copy_file(root_ / "twenty.mp4", dir_ / "local.mp4");
  const auto broken = server.url("/drop/big.mp4");
  const auto out = dir_ / "out";
  const auto result = run_list({(dir_ / "local.mp4").string(), server.url("/files/twenty.mp4"),
                                server.url("/files/thirty-five.mp4?session=1"), broken},
                               out);
  EXPECT_EQ(result.exit_code, 1) << result.output;

  const auto batch = read_json(out / "report/batch.json");
  EXPECT_EQ(batch["totals"]["ok"], 3) << result.output;
  EXPECT_EQ(batch["totals"]["failed"], 1) << result.output;
  EXPECT_EQ(frame_count(out / "local.avi"), frame_count(root_ / "twenty.mp4"));
  EXPECT_EQ(frame_count(out / "twenty.avi"), frame_count(root_ / "twenty.mp4"));
  EXPECT_EQ(frame_count(out / "thirty-five.avi"), frame_count(root_ / "thirty-five.mp4"));
  EXPECT_FALSE(fs::exists(out / "big.avi"));
  for (const auto& file : batch["files"]) {
    if (file["input"] != broken) continue;
    EXPECT_EQ(file["status"], "failed");
    EXPECT_LT(file["frames"].get<int>(), 60) << "the transfer broke inside the frames";
  }
  // One error line, naming the URL.
  int error_lines = 0;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("error") == std::string::npos) continue;
    ++error_lines;
    EXPECT_NE(line.find(broken), std::string::npos) << line;
  }
  EXPECT_EQ(error_lines, 1) << result.output;
}

TEST_F(NetworkInputTest, StalledAndMissingUrlsFailWithTheirUrlWhileTheOthersFinish) {
  // Its own name: two inputs named twenty.mp4 would map to one output, which is refused.
  fs::copy_file(root_ / "twenty.mp4", root_ / "stalled.mp4");
  HttpTestServer server(root_);
  const auto stalled = server.url("/stall/stalled.mp4");
  const auto missing = server.url("/files/no-such-clip.mp4");
  const auto out = dir_ / "out";
  const auto result = run_list({stalled, missing, server.url("/files/twenty.mp4")}, out);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(frame_count(out / "twenty.avi"), 20);
  const auto batch = read_json(out / "report/batch.json");
  EXPECT_EQ(batch["totals"]["failed"], 2) << result.output;
  for (const auto& file : batch["files"]) {
    SCOPED_TRACE(file.dump());
    if (file["input"] == stalled) {
      EXPECT_NE(file["error"].get<std::string>().find("timed out"), std::string::npos);
    } else if (file["input"] == missing) {
      EXPECT_NE(file["error"].get<std::string>().find("404"), std::string::npos);
    } else {
      continue;
    }
    EXPECT_NE(file["error"].get<std::string>().find(file["input"].get<std::string>()),
              std::string::npos);
    EXPECT_NE(result.output.find("error: " + file["input"].get<std::string>()), std::string::npos)
        << result.output;
  }
  // network_retries: 1: the stalled open is tried twice; a 404 will not pass, so it is not
  // retried.
  int stall_requests = 0, missing_requests = 0;
  for (const auto& entry : server.log()) {
    stall_requests += entry["path"] == "/stall/stalled.mp4";
    missing_requests += entry["path"] == "/files/no-such-clip.mp4";
  }
  EXPECT_EQ(stall_requests, 2);
  EXPECT_EQ(missing_requests, 1);
}

// Ctrl-C while a server keeps the connection open without answering: the run ends as cancelled
// at once, not after network_timeout_ms (a minute here), and leaves no output behind.
// libav leaves TLS certificates unchecked unless asked: an https server with a self-signed
// certificate must fail the run with a certificate error, and work once tls_ca_file names it.
TEST_F(NetworkInputTest, HttpsVerifiesTheCertificateAndTrustsTlsCaFile) {
  const auto cert = dir_ / "cert.pem";
  const auto key = dir_ / "key.pem";
  const auto made = run_shell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      shell_quote(key.string()) + " -out " + shell_quote(cert.string()) + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::ofstream(dir_ / "server.pem") << std::ifstream(cert).rdbuf() << std::ifstream(key).rdbuf();
  HttpTestServer server(root_, 0, 0, dir_ / "server.pem");
  // decode alone: encode would open the input a second time, for its audio.
  std::ofstream(config_) << "stages:\n"
                            "  - {type: decode, params: {network_timeout_ms: 1500, "
                            "network_retries: 1}}\n"
                            "  - {type: discard}\n";
  const auto url = server.url("/files/twenty.mp4");
  ASSERT_TRUE(url.starts_with("https://"));

  const auto refused = run("-i " + shell_quote(url) + " -o " + shell_quote((dir_ / "a").string()));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("the server's TLS certificate is not trusted"), std::string::npos)
      << refused.output;

  const auto trusted =
      run("-i " + shell_quote(url) + " -o " + shell_quote((dir_ / "b").string()) + " --set " +
          shell_quote("stages.decode.params.tls_ca_file=" + cert.string()));
  ASSERT_EQ(trusted.exit_code, 0) << trusted.output;
  const auto report = json::parse(std::ifstream(dir_ / "b" / "report" / "report.json"));
  EXPECT_EQ(report["frames"].get<std::size_t>(), ffprobe_pts(root_ / "twenty.mp4").size());
}

TEST_F(NetworkInputTest, SigintWhileWaitingForAStalledServerEndsTheRunAtOnce) {
  using namespace std::chrono_literals;
  HttpTestServer server(root_);
  std::ofstream(config_) << "stages:\n"
                            "  - {type: decode, params: {network_timeout_ms: 60000}}\n"
                            "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  const auto out = dir_ / "out";
  const auto errors = dir_ / "stderr.txt";
  const pid_t pid = reliability::spawn_framepipe(
      {"run", config_.string(), "-i", server.url("/stall/twenty.mp4"), "-o", out.string(), "-q"},
      errors);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(reliability::wait_for_sigint_handler(pid, 30s));
  // Until the request is waiting at the server.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (server.log().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(server.log().empty()) << "framepipe never asked the server";
  kill(pid, SIGINT);
  // The bound only catches the old behaviour: waiting out the 60 s timeout.
  const auto code = reliability::wait_bounded(pid, 20s);
  ASSERT_TRUE(code.has_value()) << "still waiting for the server 20 s after SIGINT";
  EXPECT_EQ(*code, 130);
  const std::string stderr_text = read_text(errors);
  EXPECT_NE(stderr_text.find("cancel"), std::string::npos) << stderr_text;
  EXPECT_FALSE(fs::exists(out / "twenty.avi"));
}

}  // namespace
}  // namespace framepipe::testing
