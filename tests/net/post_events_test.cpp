// post_events against a loopback HTTP server this test starts: what the server logged is the
// reference (every event exactly once, retries of a 500 with the same Idempotency-Key, the
// retry budget), and a slow server makes the stage io-bound with advice on max_in_flight.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/support/loopback_servers.h"
#include "tests/support/media.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class PostEventsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-post"); }
  void TearDown() override { fs::remove_all(dir_); }
  RunContext context() const { return RunContext{"/videos/clip.mp4", dir_, false, nullptr}; }
  fs::path dir_;
};

// Frame i carries i % 3 detections, the k-th with box x = i, y = k.
void push_frames(StageHarness& harness, int count) {
  for (int i = 0; i < count; ++i) {
    auto frame = make_frame(cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0)), i);
    for (int k = 0; k < i % 3; ++k) frame.detections.push_back({{i, k, 5, 6}, 0.5f, "car", "cars"});
    sink_of(harness).consume(frame);
  }
}

// (frame, y) of every event in the server's successful POSTs to `path`.
std::multiset<std::pair<int, int>> received(const HttpTestServer& server, const std::string& path) {
  std::multiset<std::pair<int, int>> events;
  for (const auto& entry : server.log()) {
    if (entry["method"] != "POST" || entry["path"] != path || entry["status"] != 200) continue;
    for (const auto& event : entry["events"]) {
      events.insert({event["frame"].get<int>(), event["box"]["y"].get<int>()});
    }
  }
  return events;
}

std::multiset<std::pair<int, int>> sent(int frames) {
  std::multiset<std::pair<int, int>> events;
  for (int i = 0; i < frames; ++i) {
    for (int k = 0; k < i % 3; ++k) events.insert({i, k});
  }
  return events;
}

TEST_F(PostEventsTest, EveryDetectionArrivesExactlyOnceWithManyRequestsInFlight) {
  HttpTestServer server(dir_, 0, 50);
  StageHarness harness("{type: post_events, params: {url: '" + server.url("/events") +
                           "', per: detection, batch_size: 3, max_in_flight: 16}}",
                       context());
  push_frames(harness, 90);
  harness.stage().finish();

  EXPECT_EQ(received(server, "/events"), sent(90));
  std::set<std::string> keys;
  int posts = 0;
  for (const auto& entry : server.log()) {
    ++posts;
    keys.insert(entry["key"].get<std::string>());
    for (const auto& event : entry["events"]) {
      EXPECT_EQ(event["file"], "/videos/clip.mp4");
      EXPECT_EQ(event["label"], "car");
      EXPECT_EQ(event["box"]["w"], 5);
    }
  }
  EXPECT_EQ(posts, 30) << "90 detections in batches of 3";
  EXPECT_EQ(keys.size(), 30u) << "each batch has its own Idempotency-Key";
  EXPECT_EQ(harness.stage().counters().at("retries"), 0);
}

TEST_F(PostEventsTest, PerFrameEventsCarryTheFramesDetectionsAndAPartialLastBatch) {
  HttpTestServer server(dir_);
  StageHarness harness(
      "{type: post_events, params: {url: '" + server.url("/events") + "', batch_size: 4}}",
      context());
  push_frames(harness, 10);
  harness.stage().finish();
  std::vector<int> frames;
  std::vector<std::size_t> sizes;
  for (const auto& entry : server.log()) {
    sizes.push_back(entry["events"].size());
    for (const auto& event : entry["events"]) {
      frames.push_back(event["frame"]);
      EXPECT_EQ(event["detections"].size(), event["frame"].get<std::size_t>() % 3);
    }
  }
  std::sort(frames.begin(), frames.end());
  EXPECT_EQ(frames, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 4, 4}));
}

TEST_F(PostEventsTest, A500IsRetriedWithTheSameKeyAndCountedOnce) {
  HttpTestServer server(dir_);
  StageHarness harness("{type: post_events, params: {url: '" + server.url("/flaky") +
                           "', per: detection, batch_size: 5, max_in_flight: 4, retries: 2}}",
                       context());
  push_frames(harness, 30);
  harness.stage().finish();

  EXPECT_EQ(received(server, "/flaky"), sent(30));
  std::map<std::string, std::vector<int>> statuses;  // per key, in arrival order
  for (const auto& entry : server.log()) statuses[entry["key"]].push_back(entry["status"]);
  EXPECT_EQ(statuses.size(), 6u);
  for (const auto& [key, list] : statuses) EXPECT_EQ(list, (std::vector<int>{500, 200})) << key;
  EXPECT_EQ(harness.stage().counters().at("retries"), 6);
}

TEST_F(PostEventsTest, AFailingEndpointFailsTheFileAfterItsRetryBudget) {
  HttpTestServer server(dir_);
  const auto url = server.url("/fail");
  StageHarness harness("{type: post_events, params: {url: '" + url + "', retries: 2}}", context());
  push_frames(harness, 5);
  try {
    harness.stage().finish();
    FAIL() << "finish() should throw";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("POST " + url + " failed after 3 attempts: HTTP 500"), std::string::npos)
        << message;
  }
  harness.stage().abort();
  EXPECT_EQ(server.log().size(), 3u) << "one request, retried twice";
}

TEST_F(PostEventsTest, ARefusedConnectionFailsWithTheUrl) {
  const auto url = "http://127.0.0.1:" + std::to_string(free_port()) + "/events";
  StageHarness harness("{type: post_events, params: {url: '" + url + "', retries: 1}}", context());
  push_frames(harness, 3);
  try {
    harness.stage().finish();
    FAIL() << "finish() should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("POST " + url + " failed after 2 attempts"),
              std::string::npos)
        << e.what();
  }
}

// A cancelled run stops waiting for its transfers at once: before, a stalled endpoint held the
// run for curl's whole timeout (27 s observed), then its retries.
TEST_F(PostEventsTest, CancellationReachesTransfersWaitingForAStalledServer) {
  using namespace std::chrono_literals;
  HttpTestServer server(dir_, 0, 60000);
  std::atomic<bool> cancel{false};
  RunContext stalled = context();
  stalled.cancel = &cancel;
  StageHarness harness("{type: post_events, params: {url: '" + server.url("/events") +
                           "', batch_size: 1, max_in_flight: 1, retries: 5, timeout_ms: 30000}}",
                       stalled);
  std::thread canceller([&] {
    std::this_thread::sleep_for(500ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  // The second frame's request waits for the first, which the server holds for 60 s.
  EXPECT_THROW(push_frames(harness, 3), std::runtime_error);
  const auto waited = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_LT(waited, 2500ms);
  sink_of(harness).abort();
}

TEST_F(PostEventsTest, ASlowServerMakesTheSinkIoBoundAndTheReportAdvisesMaxInFlight) {
  HttpTestServer server(dir_, 0, 50);
  const auto clip = make_clip("post-events-30f.mp4",
                              "-f lavfi -i testsrc2=size=64x48:rate=10:duration=3 -c:v libx264 "
                              "-preset ultrafast -pix_fmt yuv420p");
  const auto config = dir_ / "events.yaml";
  std::ofstream(config) << "stages:\n"
                           "  - {type: decode}\n"
                           "  - {name: events, type: post_events, params: {url: '"
                        << server.url("/events") << "', batch_size: 1, max_in_flight: 2}}\n";
  const auto out = dir_ / "out";
  const auto result = run_shell(
      shell_quote(FRAMEPIPE_BINARY) + " run " + shell_quote(config.string()) + " --quiet --input " +
      shell_quote(clip.string()) + " --output " + shell_quote(out.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  std::multiset<int> frames;
  for (const auto& entry : server.log()) {
    for (const auto& event : entry["events"]) frames.insert(event["frame"].get<int>());
  }
  EXPECT_EQ(frames.size(), 30u);
  EXPECT_EQ(std::set<int>(frames.begin(), frames.end()).size(), 30u) << "each frame once";

  std::ifstream file(out / "report/report.json");
  const auto report = json::parse(file);
  const json* events = nullptr;
  for (const auto& stage : report["stages"]) {
    if (stage["name"] == "events") events = &stage;
  }
  ASSERT_NE(events, nullptr);
  EXPECT_EQ((*events)["class"], "io-bound") << events->dump();
  EXPECT_EQ(report["bottleneck"], "events");
  bool advised = false;
  for (const auto& advice : report["advice"]) {
    EXPECT_NE(advice["key"], "stages.events.concurrency") << "not CPU concurrency";
    if (advice["key"] == "stages.events.params.max_in_flight") {
      advised = true;
      EXPECT_EQ(advice["from"], "2");
      EXPECT_EQ(advice["to"], "8");
      EXPECT_NE(advice["reason"].get<std::string>().find("`events` sleeps"), std::string::npos);
      EXPECT_GT(advice["predicted_fps"].get<double>(), 1.05 * report["fps"].get<double>());
    }
  }
  EXPECT_TRUE(advised) << report["advice"].dump();
}

}  // namespace
}  // namespace framepipe::testing
