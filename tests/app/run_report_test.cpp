// The report of a single run that did not finish (cancelled by SIGINT, or failed mid-file), and
// where reports go: --report-dir and its {run} placeholder.
#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/reliability/cli_helpers.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using reliability::files_under;
using reliability::hidden_leftovers;
using reliability::kBinary;
using reliability::kSourceDir;
using reliability::lines_of;
using reliability::write_file;

// 300 frames, 96x64 at 25 fps.
fs::path long_clip() {
  return make_clip("run-report-96x64-300f.mp4",
                   "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 300 -c:v libx264 -preset "
                   "ultrafast -pix_fmt yuv420p");
}

class RunReportTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("framepipe-run-report"); }
  void TearDown() override { fs::remove_all(dir_); }

  CommandResult framepipe(const std::string& args) {
    return run_shell(shell_quote(kBinary) + " " + args);
  }

  // An independent check of report.json against docs/report.schema.json.
  void expect_valid_report(const fs::path& report) {
    const auto check =
        run_shell("/usr/bin/python3 -m jsonschema -i " + shell_quote(report.string()) + " " +
                  shell_quote((kSourceDir / "docs/report.schema.json").string()) + " 2>&1");
    EXPECT_EQ(check.exit_code, 0) << check.output;
  }

  fs::path dir_;
};

// SIGINT in the middle of a 12 s run: exit 130, no output at its final path (nor a hidden
// temporary), and the report of what ran: status cancelled, the frames decode produced, which
// the last progress line counted too, and each later stage at most those.
TEST_F(RunReportTest, ACancelledRunWritesTheReportOfWhatRanMarkedCancelled) {
  const auto config =
      write_file(dir_ / "slow.yaml",
                 "stages:\n"
                 "  - {type: decode}\n"
                 "  - {name: wait, type: sleep, params: {ms: 40}}\n"
                 "  - {name: video, type: encode, params: {path: \"{stem}.mp4\"}}\n");
  const auto out = dir_ / "out";
  const auto progress = dir_ / "progress.jsonl";
  const pid_t pid =
      reliability::spawn_framepipe({"run", config.string(), "-i", long_clip().string(), "-o",
                                    out.string(), "--progress", progress.string()});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(reliability::wait_for_sigint_handler(pid, 10s));
  // Interrupt once some frames are through.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto lines = lines_of(read_text(progress));
    if (!lines.empty() && nlohmann::json::parse(lines.back())["frames"].get<int>() >= 20) break;
    std::this_thread::sleep_for(20ms);
  }
  kill(pid, SIGINT);
  EXPECT_EQ(reliability::wait_bounded(pid, 30s), 130);

  EXPECT_FALSE(fs::exists(out / (long_clip().stem().string() + ".mp4")));
  EXPECT_TRUE(hidden_leftovers(out).empty());
  const auto report_path = out / "report/report.json";
  ASSERT_TRUE(fs::exists(report_path));
  expect_valid_report(report_path);
  const auto report = read_json(report_path);
  EXPECT_EQ(report["status"], "cancelled");
  EXPECT_EQ(report["ok"], false);
  const auto frames = report["frames"].get<std::int64_t>();
  EXPECT_GE(frames, 20);
  EXPECT_LT(frames, 300) << "the signal came after the end: nothing was tested";
  const auto last = nlohmann::json::parse(lines_of(read_text(progress)).back());
  EXPECT_EQ(last["state"], "end");
  EXPECT_EQ(last["status"], "cancelled");
  EXPECT_EQ(last["frames"], frames);
  ASSERT_EQ(report["stages"].size(), 3u);
  EXPECT_EQ(report["stages"][0]["items"], frames);
  for (const auto& stage : report["stages"]) {
    EXPECT_GT(stage["items"].get<std::int64_t>(), 0) << stage["name"];
    EXPECT_LE(stage["items"].get<std::int64_t>(), frames) << stage["name"];
  }
  EXPECT_TRUE(fs::exists(out / "report/report.html"));
}

// A stage that throws at frame 50: exit 1, the one error line, no output, and the report of the
// frames before it, status failed with the error; the summary says so.
TEST_F(RunReportTest, AFailedRunWritesTheReportOfWhatRanMarkedFailed) {
  const auto config = write_file(dir_ / "fails.yaml",
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {name: boom, type: fail, params: {at_frame: 50, message: "
                                 "injected}}\n"
                                 "  - {name: video, type: encode, params: {path: \"x.mp4\"}}\n");
  const auto out = dir_ / "out";
  const auto clip = long_clip();
  const auto result =
      framepipe("run " + shell_quote(config.string()) + " -i " + shell_quote(clip.string()) +
                " -o " + shell_quote(out.string()) + " 2>&1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const auto error = clip.string() + ": frame 50: stage 'boom' (fail): injected";
  EXPECT_EQ(lines_of(result.output).front(), "error: " + error);
  EXPECT_NE(result.output.find("status: failed (" + error + ")"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(out / "x.mp4"));
  EXPECT_TRUE(hidden_leftovers(out).empty());
  const auto report_path = out / "report/report.json";
  ASSERT_TRUE(fs::exists(report_path));
  expect_valid_report(report_path);
  const auto report = read_json(report_path);
  EXPECT_EQ(report["status"], "failed");
  EXPECT_EQ(report["error"], error);
  // Decode read at least frames 0..50; the fail stage (parallel) handled frame 50 and, of the
  // others, those it got before the stop.
  const auto frames = report["frames"].get<std::int64_t>();
  EXPECT_GE(frames, 51);
  EXPECT_GE(report["stages"][1]["items"].get<std::int64_t>(), 1);
  EXPECT_LE(report["stages"][1]["items"].get<std::int64_t>(), frames);
}

// A run that fails before any frame (a missing input) has nothing to report.
TEST_F(RunReportTest, ARunThatFailsBeforeAnyFrameWritesNoReport) {
  const auto out = dir_ / "out";
  const auto result = framepipe(
      "run " + shell_quote((kSourceDir / "configs/default.yaml").string()) + " -i " +
      shell_quote((dir_ / "missing.mp4").string()) + " -o " + shell_quote(out.string()) + " 2>&1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(files_under(out).empty());
}

// --report-dir replaces report.dir; {run} is the run's start time, and a second run in the same
// second gets "-2": both reports are kept.
TEST_F(RunReportTest, ReportDirWithRunPlaceholderKeepsRunsSideBySide) {
  const auto config = write_file(dir_ / "quick.yaml",
                                 "report: {dir: ignored}\n"
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: discard}\n");
  const auto reports = dir_ / "reports";
  const auto before = std::time(nullptr);
  for (int i = 0; i < 3; ++i) {
    const auto result = framepipe("run " + shell_quote(config.string()) + " -i " +
                                  shell_quote(long_clip().string()) + " -o " +
                                  shell_quote((dir_ / "out").string()) + " -q --report-dir " +
                                  shell_quote((reports / "{run}").string()) + " 2>&1");
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  const auto after = std::time(nullptr);
  EXPECT_FALSE(fs::exists(dir_ / "ignored"));
  EXPECT_FALSE(fs::exists(dir_ / "out/report"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(reports)) {
    names.push_back(entry.path().filename().string());
    EXPECT_TRUE(fs::exists(entry.path() / "report.json")) << entry.path();
  }
  ASSERT_EQ(names.size(), 3u);
  std::sort(names.begin(), names.end());
  const std::regex stamp(R"((\d{8}-\d{6})(-\d+)?)");
  for (const auto& name : names) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(name, match, stamp)) << name;
    // The stamp is local time between the first run's start and the last one's end.
    std::tm parsed{};
    ASSERT_NE(strptime(match[1].str().c_str(), "%Y%m%d-%H%M%S", &parsed), nullptr);
    parsed.tm_isdst = -1;
    const auto when = std::mktime(&parsed);
    EXPECT_GE(when, before) << name;
    EXPECT_LE(when, after) << name;
  }
  // Runs in one second: the first has the stamp alone, the next ones -2, -3.
  std::map<std::string, std::vector<std::string>> by_second;
  for (const auto& name : names) by_second[name.substr(0, 15)].push_back(name);
  for (const auto& [second, group] : by_second) {
    std::vector<std::string> expected = {second};
    for (std::size_t n = 2; n <= group.size(); ++n)
      expected.push_back(second + "-" + std::to_string(n));
    EXPECT_EQ(group, expected);
  }
}

// A placeholder other than {run}, in --report-dir or in report.dir, is refused before anything
// runs, naming where it is and the one placeholder there is.
TEST_F(RunReportTest, UnknownPlaceholderInTheReportFolderIsRefused) {
  const auto config = write_file(dir_ / "quick.yaml",
                                 "stages:\n"
                                 "  - {type: decode}\n"
                                 "  - {type: discard}\n");
  const auto out = dir_ / "out";
  const auto flag =
      framepipe("run " + shell_quote(config.string()) + " -i " + shell_quote(long_clip().string()) +
                " -o " + shell_quote(out.string()) + " --report-dir 'r/{rnu}' 2>&1");
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_EQ(lines_of(flag.output),
            std::vector<std::string>{"error: --report-dir 'r/{rnu}' has an unknown placeholder "
                                     "{rnu} (did you mean '{run}'?); the only placeholder is "
                                     "{run}"});
  const auto in_config = write_file(dir_ / "bad.yaml",
                                    "report: {dir: \"reports/{stem}\"}\n"
                                    "stages:\n"
                                    "  - {type: decode}\n"
                                    "  - {type: discard}\n");
  const auto validated = framepipe("validate " + shell_quote(in_config.string()) + " 2>&1");
  EXPECT_EQ(validated.exit_code, 2);
  EXPECT_EQ(lines_of(validated.output),
            std::vector<std::string>{"error: " + in_config.string() +
                                     ":1:15: 'reports/{stem}' has an unknown placeholder {stem}; "
                                     "the only placeholder is {run}"});
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace framepipe::testing
