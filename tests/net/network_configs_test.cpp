// The network configs in configs/, run end to end through the framepipe binary:
// people-to-db.yaml on OpenCV's walking people (rows read back with the sqlite3 CLI) and
// from-urls.yaml on a clip served by a loopback HTTP server (frames counted with ffprobe).
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/loopback_servers.h"
#include "tests/support/media.h"
#include "tests/support/opencv_samples.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kShippedConfigs = fs::path(FRAMEPIPE_SOURCE_DIR) / "configs";

class NetworkConfigsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-netconfigs"); }
  void TearDown() override { fs::remove_all(dir_); }

  void run(const std::string& name, const std::string& input) {
    const auto result =
        run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " +
                  shell_quote((kShippedConfigs / name).string()) + " --quiet --input " +
                  shell_quote(input) + " --output " + shell_quote((dir_ / "out").string()));
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  fs::path dir_;
};

TEST_F(NetworkConfigsTest, PeopleToDbWritesThePeopleOfEveryFrameAsRows) {
  const auto clip =
      make_clip("vtest-1s.mp4", "-i " + shell_quote(opencv_sample("vtest.avi").string()) +
                                    " -t 1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
  run("people-to-db.yaml", clip.string());
  const auto db = (dir_ / "out/people.sqlite").string();
  const auto summary = capture(
      "sqlite3 -batch -noheader -separator '|' " + shell_quote(db) +
      " 'SELECT count(DISTINCT frame), min(frame), max(frame), group_concat(DISTINCT label), "
      "group_concat(DISTINCT stage), group_concat(DISTINCT file), min(w * h) > 0 FROM "
      "detections'");
  // 10 frames; HOG finds people on most of them, the first and the last included.
  std::vector<std::string> f;
  std::istringstream fields(summary.substr(0, summary.find('\n')));
  for (std::string field; std::getline(fields, field, '|');) f.push_back(field);
  ASSERT_EQ(f.size(), 7u) << summary;
  EXPECT_GE(std::stoi(f[0]), 8);
  EXPECT_EQ(f[1], "0");
  EXPECT_EQ(f[2], "9");
  EXPECT_EQ(f[3], "person");
  EXPECT_EQ(f[4], "people");
  EXPECT_EQ(f[5], clip.string());
  EXPECT_EQ(f[6], "1");
}

TEST_F(NetworkConfigsTest, FromUrlsMakesAProxyOfAServedClipNamedAfterTheUrl) {
  const auto root = dir_ / "served";
  fs::create_directories(root);
  fs::copy_file(make_clip("net-35f.mp4",
                          "-f lavfi -i testsrc2=size=96x64:rate=10:duration=3.5 -c:v libx264 "
                          "-preset ultrafast -pix_fmt yuv420p"),
                root / "walk.mp4");
  HttpTestServer server(root);
  run("from-urls.yaml", server.url("/files/walk.mp4"));
  const auto proxy = (dir_ / "out/walk-proxy.mp4").string();
  EXPECT_EQ(probe_video(proxy, "stream=nb_read_frames", "-count_frames"), "35");
  EXPECT_EQ(probe_video(proxy, "stream=width,height"), "320,240");
}

}  // namespace
}  // namespace framepipe::testing
