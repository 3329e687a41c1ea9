// What hostile strings cannot make framepipe do: print or write a URL's password, put a derived
// file outside the folder it belongs to, inject markup into batch.html or crash a merge through
// a shard's batch.json, or forge a log line through a file name.
#include <gtest/gtest.h>

#include "pipeline/batch.h"
#include "pipeline/config.h"
#include "stages/register_all.h"
#include "tests/reliability/cli_helpers.h"
#include "tests/support/loopback_servers.h"

namespace framepipe::testing::reliability {
namespace {

class LeaksTest : public FoldersTest {
 protected:
  LeaksTest() : FoldersTest("framepipe-leaks") {}
  // framepipe run CONFIG ARGS, into out/ unless ARGS name another output folder.
  CommandResult run(const fs::path& config, const std::string& args) {
    const auto output =
        args.find(" -o ") == std::string::npos ? " -o " + shell_quote(out_.string()) : "";
    return run_shell(shell_quote(kBinary) + " run " + shell_quote(config.string()) + output + " " +
                     args);
  }
};

// A URL's password reaches neither a line printed (errors, outputs, the batch line) nor any file
// written (report.json, report.html, trace.json, batch.json, batch.html, the manifest); the
// PostgreSQL URL of write_detections_db neither.
TEST_F(LeaksTest, CredentialsInUrlsAreRedactedInEveryLineAndFile) {
  const std::string secret = "s3cret-Pw";
  const std::string db_secret = "db-S3cret";
  fs::create_directories(dir_ / "served");
  fs::copy_file(small_clip(), dir_ / "served/clip.mp4");
  HttpTestServer server(dir_ / "served");
  const auto with_credentials = [&](const std::string& path) {
    auto url = server.url(path);
    return url.insert(std::string("http://").size(), "user:" + secret + "@");
  };
  const auto bindir = postgres_bindir();
  std::optional<PostgresServer> postgres;
  std::string db_stage;
  if (!bindir.empty()) {
    postgres.emplace(bindir);
    auto url = postgres->url();
    url.insert(url.find('@'), ":" + db_secret);
    db_stage = "  - {type: write_detections_db, input: decode, params: {url: \"" + url + "\"}}\n";
  }
  const auto config = write_file(dir_ / "p.yaml",
                                 "stages:\n  - {name: decode, type: decode}\n  - {type: encode, "
                                 "input: decode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n" +
                                     db_stage);
  const auto single = run(config, "-i " + shell_quote(with_credentials("/files/clip.mp4")));
  EXPECT_EQ(single.exit_code, 0) << single.output;
  const auto missing = run(config, "-i " + shell_quote(with_credentials("/files/missing.mp4")));
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("http://user:***@127.0.0.1"), std::string::npos) << missing.output;
  const auto list =
      write_file(dir_ / "list.txt", with_credentials("/files/clip.mp4") + "\n" +
                                        with_credentials("/files/missing.mp4") + "\n");
  const auto batch =
      run(config, "-v --set output.overwrite=true --input-list " + shell_quote(list.string()) +
                      " -o " + shell_quote((dir_ / "batch").string()));
  EXPECT_EQ(batch.exit_code, 1) << batch.output;

  for (const auto& [what, output] :
       {std::pair{"single", single.output}, {"missing", missing.output}, {"batch", batch.output}}) {
    EXPECT_EQ(output.find(secret), std::string::npos) << what << ": " << output;
    EXPECT_EQ(output.find(db_secret), std::string::npos) << what << ": " << output;
  }
  std::vector<fs::path> written = files_under(out_);
  for (const auto& file : files_under(dir_ / "batch")) written.push_back(file);
  EXPECT_GE(written.size(), 8u);
  for (const auto& file : written) {
    const auto text = read_text(file);
    EXPECT_EQ(text.find(secret), std::string::npos) << file;
    EXPECT_EQ(text.find(db_secret), std::string::npos) << file;
  }
  // The URLs are still there, with the password replaced.
  const auto report = read_json(out_ / "report/report.json");
  EXPECT_EQ(report["input"], with_credentials("/files/clip.mp4").replace(12, secret.size(), "***"));
  if (postgres) {
    const auto db_url = report["config"]["stages"][2]["params"]["url"].get<std::string>();
    EXPECT_NE(db_url.find(":***@127.0.0.1"), std::string::npos) << db_url;
  }
  const auto batch_json = read_json(dir_ / "batch/report/batch.json");
  EXPECT_EQ(batch_json["totals"]["ok"], 1);
  EXPECT_EQ(batch_json["totals"]["failed"], 1);
}

// A relative SQLite path that climbs out of output.dir is a config error; nothing is created.
TEST_F(LeaksTest, ASqlitePathThatClimbsOutOfTheOutputFolderIsRefused) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  const auto config =
      write_file(dir_ / "db.yaml",
                 "stages:\n  - {type: decode}\n  - {type: write_detections_db, params: {path: "
                 "\"sub/../../escape.sqlite\"}}\n");
  const auto result = run(config, "-i " + shell_quote((in_ / "clip.mp4").string()));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("climbs out of output.dir"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(dir_ / "escape.sqlite"));
  const auto inside =
      write_file(dir_ / "db-inside.yaml",
                 "stages:\n  - {type: decode}\n  - {type: write_detections_db, params: {path: "
                 "\"sub/../inside.sqlite\"}}\n");
  const auto ok = run(inside, "-i " + shell_quote((in_ / "clip.mp4").string()));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_TRUE(fs::exists(out_ / "inside.sqlite"));
}

// A batch input whose name is ".." (a URL ending in "/..") would have its report written at
// report/.. = the output folder: that file fails alone, and nothing is written outside.
TEST_F(LeaksTest, AnInputNamedDotDotFailsAloneInsteadOfWritingOutsideTheReportFolder) {
  Registry registry;
  stages::register_all(registry);
  auto config = load_config_text(
      "stages:\n  - {type: decode}\n  - {type: encode, params: {codec: mpeg4, path: "
      "\"x-{ext}.avi\"}}\n",
      "test.yaml", {}, registry);
  config.output_dir = out_.string();
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  const std::vector<BatchInput> inputs = {{in_ / "clip.mp4", ".."}, {in_ / "clip.mp4", "clip.mp4"}};
  const auto result = run_batch(config, inputs, {});
  ASSERT_EQ(result.files.size(), 2u);
  EXPECT_EQ(result.files[0].status, "failed");
  EXPECT_NE(result.files[0].error.find("its name '..'"), std::string::npos)
      << result.files[0].error;
  EXPECT_EQ(result.files[1].status, "ok") << result.files[1].error;
  EXPECT_FALSE(fs::exists(out_ / "report.json"));
  EXPECT_FALSE(fs::exists(dir_ / "report.json"));
  EXPECT_TRUE(fs::exists(out_ / "report/clip.mp4/report.json"));

  // Through the command line: a URL ending in "/..".
  HttpTestServer server(dir_);
  const auto list = write_file(dir_ / "list.txt", server.url("/files/..") + "\n");
  const auto cli =
      run(write_file(dir_ / "p.yaml", "stages:\n  - {type: decode}\n  - {type: discard}\n"),
          "--input-list " + shell_quote(list.string()));
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  EXPECT_NE(cli.output.find("its name '..' would put its outputs and report outside"),
            std::string::npos)
      << cli.output;
}

// A minimal valid shard report, with one file.
nlohmann::json shard_batch(const std::string& shard, const std::string& relative) {
  return {{"schema", "framepipe-batch/1"},
          {"pipeline", "p"},
          {"input", "in"},
          {"files_in_parallel", 1},
          {"cancelled", false},
          {"shard", {{"name", shard}}},
          {"totals",
           {{"files", 1},
            {"ok", 1},
            {"damaged", 0},
            {"failed", 0},
            {"skipped", 0},
            {"cancelled", 0},
            {"frames", 10},
            {"wall_s", 1.0},
            {"fps", 10.0}}},
          {"budget", {{"capacity", 16}, {"t", nlohmann::json::array()}, {"in_use", {1, 2}}}},
          {"files",
           {{{"input", "in/" + relative},
             {"relative", relative},
             {"status", "ok"},
             {"error", nullptr},
             {"frames", 10},
             {"expected_frames", 10},
             {"damaged_packets", 0},
             {"wall_s", 1.0},
             {"fps", 10.0},
             {"outputs", nlohmann::json::array()},
             {"report", nullptr}}}}};
}

// Hostile shard reports given to `report merge`: a key missing anywhere, or of the wrong type,
// is one error line naming the file and the key (never a crash); a status that is markup is
// refused; markup elsewhere reaches batch.html as text.
TEST_F(LeaksTest, ReportMergeValidatesEveryShardAndEscapesWhatItWrites) {
  const auto reports = dir_ / "report";
  const auto merge = [&] {
    return run_shell(shell_quote(kBinary) + " report merge " + shell_quote(reports.string()));
  };
  const auto write_shards = [&](const nlohmann::json& second) {
    write_file(reports / "shard-0-of-2/batch.json", shard_batch("shard-0-of-2", "a.mp4").dump());
    write_file(reports / "shard-1-of-2/batch.json", second.dump());
  };
  write_shards(shard_batch("shard-1-of-2", "b.mp4"));
  const auto good = merge();
  ASSERT_EQ(good.exit_code, 0) << good.output;

  const auto shard_file = (reports / "shard-1-of-2/batch.json").string();
  struct Case {
    nlohmann::json::json_pointer pointer;
    bool remove;
    nlohmann::json value;
    std::string key;
  };
  using pointer = nlohmann::json::json_pointer;
  const std::vector<Case> cases = {
      {pointer("/totals/frames"), true, nullptr, "'totals.frames' is missing"},
      {pointer("/totals"), true, nullptr, "'totals' is missing"},
      {pointer("/budget"), true, nullptr, "'budget' is missing"},
      {pointer("/pipeline"), true, nullptr, "'pipeline' is missing"},
      {pointer("/files/0/relative"), true, nullptr, "'files[0].relative' is missing"},
      {pointer("/files/0/frames"), false, "ten", "'files[0].frames' must be an integer"},
      {pointer("/totals/wall_s"), false, "1", "'totals.wall_s' must be a number"},
      {pointer("/files"), false, 3, "'files' must be an array"},
      {pointer("/shard/name"), false, nlohmann::json::array(), "'shard.name' must be a string"},
      {pointer("/files/0/status"), false, "<script>alert(1)</script>",
       "'files[0].status' must be ok, damaged, failed, skipped or cancelled"}};
  for (const auto& c : cases) {
    auto hostile = shard_batch("shard-1-of-2", "b.mp4");
    if (c.remove) {
      hostile.at(c.pointer.parent_pointer()).erase(c.pointer.back());
    } else {
      hostile.at(c.pointer) = c.value;
    }
    write_shards(hostile);
    const auto result = merge();
    EXPECT_EQ(result.exit_code, 1) << c.key << ": " << result.output;
    EXPECT_NE(result.output.find(shard_file + ": " + c.key), std::string::npos)
        << c.key << ": " << result.output;
    EXPECT_EQ(lines_of(result.output).size(), 1u) << result.output;
  }

  // Markup in the strings a merge copies: text in batch.html.
  auto marked = shard_batch("<script>alert(2)</script>", "<img src=x onerror=alert(3)>.mp4");
  marked["files"][0]["error"] = "<script>alert(4)</script>";
  marked["pipeline"] = "<b>p</b>";
  write_shards(marked);
  const auto escaped = merge();
  ASSERT_EQ(escaped.exit_code, 0) << escaped.output;
  const auto html = read_text(reports / "batch.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(3)&gt;.mp4"), std::string::npos);
}

// batch.html escapes a file's status wherever it goes (a class attribute, a cell), whatever
// produced the batch.json.
TEST(BatchHtml, StatusIsEscapedInTheClassAndTheCell) {
  auto batch = shard_batch("s", "a.mp4");
  batch["files"][0]["status"] = "\"><script>alert(1)</script>";
  const auto html = batch_report_html(batch);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">"),
            std::string::npos)
      << html;
}

// A file name holding a newline and a terminal escape sequence cannot forge a line of output or
// reach the terminal raw, in a single run, in a batch's error lines and in its -v file lines.
TEST_F(LeaksTest, FileNamesCannotForgeLogLines) {
  const std::string forged_bad = "bad\nerror: forged\x1b[2J.mp4";
  const std::string forged_good = "good\nok: forged\x1b[31m.mp4";
  write_file(in_ / forged_bad, "not a video");
  fs::copy_file(small_clip(), in_ / forged_good);
  const auto config =
      write_file(dir_ / "p.yaml",
                 "stages:\n  - {type: decode}\n  - {type: encode, params: {codec: mpeg4, path: "
                 "\"{stem}.avi\"}}\n");
  const auto single = run(config, "-q -i " + shell_quote((in_ / forged_bad).string()));
  const auto batch = run(config, "-v -i " + shell_quote(in_.string()) + " -o " +
                                     shell_quote((dir_ / "batch").string()));
  EXPECT_EQ(single.exit_code, 1) << single.output;
  EXPECT_EQ(batch.exit_code, 1) << batch.output;
  for (const auto& output : {single.output, batch.output}) {
    EXPECT_EQ(output.find('\x1b'), std::string::npos) << output;
    for (const auto& line : lines_of(output)) {
      EXPECT_FALSE(line.starts_with("error: forged")) << output;
      EXPECT_FALSE(line.starts_with("ok: forged")) << output;
    }
  }
  EXPECT_EQ(lines_of(single.output).size(), 1u) << single.output;
  EXPECT_NE(single.output.find("bad\\nerror: forged\\x1b[2J.mp4"), std::string::npos)
      << single.output;
  EXPECT_NE(batch.output.find("good\\nok: forged\\x1b[31m.mp4"), std::string::npos) << batch.output;
}

}  // namespace
}  // namespace framepipe::testing::reliability
