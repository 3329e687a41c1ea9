// write_detections_db into SQLite and into a PostgreSQL server this test starts: the rows,
// read back with the sqlite3 and psql command-line clients, equal the JSON Lines that
// write_detections wrote in the same run; a re-run leaves the same rows; a failed file leaves
// none; a database that refuses the connection fails each file with one line.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "tests/support/loopback_servers.h"
#include "tests/support/media.h"
#include "tests/support/opencv_samples.h"
#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// file, frame, pts, time_s (µs), stage, label, score (millionths), x, y, w, h
using Row = std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t, std::string,
                       std::string, std::int64_t, int, int, int, int>;

std::int64_t millionths(double value) { return std::llround(value * 1e6); }

// write_detections' JSON Lines as rows.
std::vector<Row> jsonl_rows(const fs::path& path) {
  std::vector<Row> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto r = json::parse(line);
    rows.emplace_back(r["file"], r["frame"], r["pts"], millionths(r["time_s"]), r["stage"],
                      r["label"], millionths(r["score"]), r["box"]["x"], r["box"]["y"],
                      r["box"]["w"], r["box"]["h"]);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

constexpr const char* kSelect =
    "SELECT file, frame, pts, time_s, stage, label, score, x, y, w, h FROM detections";

// Rows as a command-line client prints them: fields separated by '|', one row a line.
std::vector<Row> parse_rows(const std::string& text) {
  std::vector<Row> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, '|');) f.push_back(field);
    if (f.size() != 11) throw std::runtime_error("bad row: " + line);
    rows.emplace_back(f[0], std::stoll(f[1]), std::stoll(f[2]), millionths(std::stod(f[3])), f[4],
                      f[5], millionths(std::stod(f[6])), std::stoi(f[7]), std::stoi(f[8]),
                      std::stoi(f[9]), std::stoi(f[10]));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string sqlite(const fs::path& db, const std::string& sql) {
  return capture("sqlite3 -batch -noheader -separator '|' " + shell_quote(db.string()) + " " +
                 shell_quote(sql));
}

class DetectionsDbTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-db"); }
  void TearDown() override { fs::remove_all(dir_); }

  // One second of OpenCV's walking people (10 frames): HOG finds people on most frames.
  static fs::path people_clip() {
    return make_clip("vtest-1s.mp4", "-i " + shell_quote(opencv_sample("vtest.avi").string()) +
                                         " -t 1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
  }

  // decode → people → JSON Lines and the database sink side by side.
  fs::path config_with(const std::string& db_params) {
    const auto config = dir_ / "db.yaml";
    std::ofstream(config)
        << "output: {overwrite: true}\n"
           "stages:\n"
           "  - {type: decode}\n"
           "  - {name: people, type: detect_people}\n"
           "  - {name: json, type: write_detections, input: people, params: {path: "
           "'{stem}.jsonl'}}\n"
           "  - {name: db, type: write_detections_db, input: people, params: {"
        << db_params << "}}\n";
    return config;
  }

  CommandResult run(const fs::path& config, const std::string& args) {
    return run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " + shell_quote(config.string()) +
                     " --quiet " + args);
  }

  fs::path dir_;
};

TEST_F(DetectionsDbTest, SqliteRowsEqualTheJsonLinesAndARerunReplacesThem) {
  const auto clip = people_clip();
  const auto config = config_with("path: people.sqlite, batch_size: 7");
  const auto args =
      "--input " + shell_quote(clip.string()) + " --output " + shell_quote((dir_ / "out").string());
  auto result = run(config, args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto db = dir_ / "out/people.sqlite";
  const auto expected = jsonl_rows(dir_ / "out/vtest-1s.jsonl");
  ASSERT_GT(expected.size(), 7u) << "several batches";
  EXPECT_EQ(parse_rows(sqlite(db, kSelect)), expected);

  // Another file's rows stay; this file's are replaced, not added to.
  sqlite(db,
         "INSERT INTO detections VALUES ('other.mp4', 0, 0, 0, 'people', 'person', 1, 1, 2, 3, 4)");
  result = run(config, args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(parse_rows(sqlite(db, std::string(kSelect) + " WHERE file <> 'other.mp4'")), expected);
  EXPECT_EQ(sqlite(db, "SELECT count(*) FROM detections"),
            std::to_string(expected.size() + 1) + "\n");
  // The schema documented in docs/network.md, with its index.
  EXPECT_NE(sqlite(db, ".schema detections").find("CREATE INDEX detections_file"),
            std::string::npos);
}

TEST_F(DetectionsDbTest, AnAbortedFileLeavesNoRows) {
  StageHarness harness("{type: write_detections_db, params: {batch_size: 2}}",
                       RunContext{"/videos/a.mp4", dir_, false, nullptr});
  for (int i = 0; i < 5; ++i) {
    auto frame = make_frame(cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0)), i);
    frame.detections.push_back({{i, 0, 4, 4}, 0.5f, "person", "people"});
    dynamic_cast<SinkStage&>(harness.stage()).consume(frame);
  }
  const auto db = dir_ / "detections.sqlite";
  EXPECT_EQ(sqlite(db, "SELECT count(*) FROM detections"), "4\n") << "two batches committed";
  harness.stage().abort();
  EXPECT_EQ(sqlite(db, "SELECT count(*) FROM detections"), "0\n");
}

TEST_F(DetectionsDbTest, ARefusedDatabaseConnectionFailsEachFileWithOneLine) {
  const auto url = "postgresql://framepipe:secret@127.0.0.1:" + std::to_string(free_port()) + "/x";
  const auto config = dir_ / "refused.yaml";
  std::ofstream(config) << "stages:\n"
                           "  - {type: decode}\n"
                           "  - {type: write_detections_db, params: {url: '"
                        << url << "', timeout_ms: 2000}}\n";
  const auto clip = make_clip("net-20f.mp4",
                              "-f lavfi -i testsrc2=size=64x48:rate=10:duration=2 -c:v libx264 "
                              "-preset ultrafast -pix_fmt yuv420p");
  fs::create_directories(dir_ / "in");
  fs::copy_file(clip, dir_ / "in/a.mp4");
  fs::copy_file(clip, dir_ / "in/b.mp4");
  const auto result = run(config, "--input " + shell_quote((dir_ / "in").string()) + " --output " +
                                      shell_quote((dir_ / "out").string()));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  int lines = 0;
  std::istringstream output(result.output);
  for (std::string line; std::getline(output, line);) {
    if (line.find("cannot connect to postgresql://framepipe:***@127.0.0.1:") == std::string::npos)
      continue;
    ++lines;
    EXPECT_EQ(line.find("secret"), std::string::npos) << "the password is not printed: " << line;
  }
  EXPECT_EQ(lines, 2) << result.output;
}

TEST_F(DetectionsDbTest, BadUrlAndTableAreConfigErrors) {
  const auto config = dir_ / "bad.yaml";
  std::ofstream(config) << "stages:\n"
                           "  - {type: decode}\n"
                           "  - {type: write_detections_db, params: {url: 'mysql://h/db', table: "
                           "'x; DROP TABLE y'}}\n";
  const auto result =
      run_shell(shell_quote(FRAMEPIPE_BINARY) + " validate " + shell_quote(config.string()));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("'url' must start with postgresql://"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("'table' must be letters, digits and _"), std::string::npos)
      << result.output;
}

TEST_F(DetectionsDbTest, PostgresRowsEqualTheJsonLinesAndARerunReplacesThem) {
  const auto bindir = postgres_bindir();
  if (bindir.empty()) {
    GTEST_SKIP() << "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
                    "`postgresql` package (scripts/install-deps.sh) to run this test";
  }
  PostgresServer server(bindir);
  const auto clip = people_clip();
  const auto config = config_with("url: '" + server.url() + "', batch_size: 3, max_in_flight: 4");
  const auto args =
      "--input " + shell_quote(clip.string()) + " --output " + shell_quote((dir_ / "out").string());
  auto result = run(config, args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto expected = jsonl_rows(dir_ / "out/vtest-1s.jsonl");
  ASSERT_GT(expected.size(), 3u * 4) << "more batches than max_in_flight";
  EXPECT_EQ(parse_rows(server.query(kSelect)), expected);

  result = run(config, args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(parse_rows(server.query(kSelect)), expected);
  EXPECT_EQ(server.query("SELECT count(*) FROM detections"),
            std::to_string(expected.size()) + "\n");
}

}  // namespace
}  // namespace framepipe::testing
