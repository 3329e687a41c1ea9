// What a hostile file name, input tree or config cannot make framepipe do: run a shell, write
// outside the output folder, inject markup into the HTML reports, or read a model from anywhere
// but the path the config names.
#include <gtest/gtest.h>

#include <regex>

#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

// The product starts no shell and no other program, so no user string can reach one. The
// processes it starts are its own binary, each from one place, with an argument list: a batch's
// file worker (pipeline.isolation: process) and `tune`'s measured runs (`framepipe run`). (The
// tests do run a shell: tests/support runs ffmpeg and the binary through popen.)
TEST(Security, OnlyItsOwnWorkerProcessIsStartedNeverAShell) {
  const std::regex call(
      R"(\b(system|popen|fork|vfork|execl|execlp|execle|execv|execvp|execvpe|posix_spawnp?|wordexp)\s*\()");
  const auto worker_starter = kSourceDir / "pipeline/isolated_file.cpp";
  const auto tune_starter = kSourceDir / "app/tune_command.cpp";
  std::vector<std::string> found;
  int worker_starts = 0;
  int tune_starts = 0;
  for (const char* folder : {"pipeline", "stages", "app"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kSourceDir / folder)) {
      const auto extension = entry.path().extension();
      if (extension != ".cpp" && extension != ".h" && extension != ".def") continue;
      std::ifstream file(entry.path());
      int number = 0;
      for (std::string line; std::getline(file, line);) {
        ++number;
        if (!std::regex_search(line, call)) continue;
        if (entry.path() == worker_starter &&
            line.find("posix_spawn(&pid, program.c_str()") != std::string::npos) {
          ++worker_starts;
        } else if (entry.path() == tune_starter &&
                   line.find("posix_spawn(&pid, argv[0], &actions, nullptr, argv.data()") !=
                       std::string::npos) {
          ++tune_starts;
        } else {
          found.push_back(entry.path().string() + ":" + std::to_string(number) + ": " + line);
        }
      }
    }
  }
  EXPECT_TRUE(found.empty()) << found.front();
  EXPECT_EQ(worker_starts, 1);
  EXPECT_EQ(tune_starts, 1);
  // tune starts its own binary's `run`, the config after "--" so that no name is an option.
  const auto tune = read_text(tune_starter);
  EXPECT_NE(tune.find("std::vector<std::string> args = {\"/proc/self/exe\",\n"
                      "                                   \"run\","),
            std::string::npos);
  EXPECT_NE(tune.find("args.push_back(\"--\");\n  args.push_back(options_.config_path);"),
            std::string::npos);
  // What it starts: the program the batch names, by default its own binary, as a file worker.
  const auto starter = read_text(worker_starter);
  EXPECT_NE(starter.find("kFileWorkerCommand, std::to_string(getpid())}"), std::string::npos);
  EXPECT_NE(read_text(kSourceDir / "pipeline/batch.h")
                .find("std::filesystem::path worker_program = \"/proc/self/exe\";"),
            std::string::npos);
}

class SecurityTest : public FoldersTest {
 protected:
  SecurityTest() : FoldersTest("framepipe-security") {}
  void SetUp() override {
    FoldersTest::SetUp();
    config_ = write_file(dir_ / "p.yaml",
                         "stages:\n  - {type: decode}\n  - {type: encode, params: {codec: mpeg4, "
                         "path: \"{stem}.avi\"}}\n");
  }
  CommandResult run(const std::string& args) {
    return run_shell(shell_quote(kBinary) + " run " + shell_quote(config_.string()) + " -o " +
                     shell_quote(out_.string()) + " -q " + args);
  }

  // Every file under the test's folder that is outside in/ and out/ and not the config.
  std::vector<fs::path> strays() {
    std::vector<fs::path> found;
    for (const auto& path : files_under(dir_)) {
      const auto relative = path.lexically_relative(dir_).generic_string();
      if (!relative.starts_with("in/") && !relative.starts_with("out/") &&
          !relative.starts_with("outside/") && relative != "p.yaml") {
        found.push_back(path);
      }
    }
    return found;
  }

  fs::path config_;
};

TEST_F(SecurityTest, DotDotInAnInputListStaysInsideTheOutputFolder) {
  fs::create_directories(dir_ / "elsewhere");
  fs::copy_file(small_clip(), dir_ / "elsewhere/clip.mp4");
  const auto list = write_file(in_ / "list.txt", "../elsewhere/clip.mp4\n");
  const auto result = run("--input-list " + shell_quote(list.string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(fs::exists(out_ / "clip.avi"));
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere/clip.avi"));
  EXPECT_TRUE(fs::exists(out_ / "report/clip.mp4/report.json"));
}

// An output name that resolves outside output.dir fails that file, whether the '..' comes from
// the template, from an absolute template, or from {stem} of an input named "...mp4".
TEST_F(SecurityTest, OutputNamesThatLeaveTheOutputFolderAreRefused) {
  fs::copy_file(small_clip(), in_ / "clip.mp4");
  fs::copy_file(small_clip(), in_ / "...mp4");
  struct Case {
    std::string input;
    std::string path;
  };
  for (const auto& [input, path] :
       {Case{"clip.mp4", "../escape.avi"}, Case{"clip.mp4", "sub/../../escape.avi"},
        Case{"clip.mp4", (dir_ / "absolute.avi").string()}, Case{"...mp4", "{stem}/escape.avi"},
        Case{"...mp4", "{stem}{stem}/../{stem}/escape.avi"}}) {
    const auto result = run("-i " + shell_quote((in_ / input).string()) + " --set " +
                            shell_quote("stages.encode.params.path=\"" + path + "\""));
    EXPECT_EQ(result.exit_code, 1) << path << ": " << result.output;
    EXPECT_NE(result.output.find("is outside the output folder"), std::string::npos)
        << result.output;
    EXPECT_TRUE(strays().empty()) << path << ": " << strays().front();
    EXPECT_TRUE(files_under(out_).empty()) << path;
  }
  // '..' that stays inside is fine.
  const auto inside = run("-i " + shell_quote((in_ / "...mp4").string()) + " --set " +
                          shell_quote("stages.encode.params.path=\"a/../{stem}x.avi\""));
  EXPECT_EQ(inside.exit_code, 0) << inside.output;
  EXPECT_TRUE(fs::exists(out_ / "..x.avi"));
}

// A symlink to a file outside the input tree is read like a file of the tree, its output goes
// under the link's own name; a symlink to a folder is not followed (no loops, no escapes).
TEST_F(SecurityTest, SymlinksInTheInputTreeNeverTakeOutputsOutside) {
  const auto outside = dir_ / "outside";
  fs::create_directories(outside / "deeper");
  fs::copy_file(small_clip(), outside / "target.mp4");
  fs::copy_file(small_clip(), outside / "deeper/inner.mp4");
  fs::copy_file(small_clip(), in_ / "plain.mp4");
  fs::create_symlink(outside / "target.mp4", in_ / "link.mp4");
  fs::create_symlink(outside / "deeper", in_ / "linked-folder");
  fs::create_symlink("..", in_ / "loop");
  const auto result = run("-i " + shell_quote(in_.string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["files"], 2);
  EXPECT_TRUE(fs::exists(out_ / "plain.avi"));
  EXPECT_TRUE(fs::exists(out_ / "link.avi"));
  EXPECT_EQ(files_under(outside),
            (std::vector<fs::path>{outside / "deeper/inner.mp4", outside / "target.mp4"}));
  EXPECT_TRUE(strays().empty()) << strays().front();
}

// A name that is an HTML tag (a folder "<script>alert(1)<" holding "script>.mp4" makes the
// relative path "<script>alert(1)</script>.mp4"), a config name that is one, and an error
// message quoting one all reach the reports as text.
TEST_F(SecurityTest, FileNamesAndConfigStringsAreEscapedInTheHtmlReports) {
  fs::create_directories(in_ / "<script>alert(1)<");
  fs::copy_file(small_clip(), in_ / "<script>alert(1)<" / "script>.mp4");
  write_file(in_ / "<img src=x onerror=alert(3)>.mp4", "not a video");
  const auto result = run("-i " + shell_quote(in_.string()) + " --set " +
                          shell_quote("pipeline.name=\"<img src=x onerror=alert(2)>\""));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const auto batch = read_json(out_ / "report/batch.json");
  EXPECT_EQ(batch["totals"]["ok"], 1) << result.output;
  EXPECT_EQ(batch["totals"]["failed"], 1) << result.output;
  const auto report = out_ / "report/<script>alert(1)</script>.mp4/report.html";
  ASSERT_TRUE(fs::exists(report));
  for (const auto& page : {out_ / "report/batch.html", report}) {
    const std::string html = read_text(page);
    EXPECT_EQ(html.find("<script>alert"), std::string::npos) << page;
    EXPECT_EQ(html.find("</script>.mp4"), std::string::npos) << page;
    EXPECT_EQ(html.find("<img"), std::string::npos) << page;
  }
  const std::string html = read_text(out_ / "report/batch.html");
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;.mp4"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(3)&gt;.mp4"), std::string::npos);
}

// Stages read model and cascade files from the path the config names and nowhere else: with
// that file gone, there is no fallback to the default cascade or a search path.
TEST_F(SecurityTest, ModelFilesAreReadOnlyFromTheConfiguredPath) {
  const auto cascade = dir_ / "models/faces.xml";
  fs::create_directories(cascade.parent_path());
  fs::copy_file("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml", cascade);
  const auto config = write_file(dir_ / "faces.yaml",
                                 "stages:\n  - {type: decode}\n  - {type: detect_faces, params: "
                                 "{cascade: models/faces.xml}}\n  - {type: write_detections}\n");
  const auto validate = [&](const fs::path& cwd) {
    return run_shell("cd " + shell_quote(cwd.string()) + " && " + shell_quote(kBinary) +
                     " validate " + shell_quote(config.string()));
  };
  EXPECT_EQ(validate(dir_).exit_code, 0) << validate(dir_).output;
  // Relative paths are taken from the working folder, not from the config's or the binary's.
  const auto elsewhere = validate(in_);
  EXPECT_EQ(elsewhere.exit_code, 2) << elsewhere.output;
  EXPECT_NE(elsewhere.output.find("no file 'models/faces.xml'"), std::string::npos)
      << elsewhere.output;
  fs::remove(cascade);
  const auto gone = validate(dir_);
  EXPECT_EQ(gone.exit_code, 2) << gone.output;
  EXPECT_NE(gone.output.find("no file 'models/faces.xml'"), std::string::npos) << gone.output;
}

}  // namespace
}  // namespace framepipe::testing::reliability
