// The manifest file, written entry by entry (Manifest::save), against the tree the manifest
// dumped before: the same bytes, for no entry, one and many; and what it saved reads back.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "pipeline/json_text.h"
#include "pipeline/manifest.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

class ManifestFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("framepipe-manifest-file");
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An input of `bytes` bytes, and its entry as the manifest's tree held it before.
  fs::path input_of_size(const std::string& name, std::size_t bytes) {
    const auto path = dir_ / "in" / name;
    std::ofstream(path) << std::string(bytes, 'x');
    return path;
  }
  static nlohmann::json tree_entry_of(const fs::path& input, const std::string& status,
                                      const std::vector<std::string>& outputs) {
    // The write time as stat(2) gives it, in nanoseconds since the Unix epoch.
    struct stat written {};
    EXPECT_EQ(::stat(input.c_str(), &written), 0);
    const std::int64_t mtime =
        std::int64_t{written.st_mtim.tv_sec} * 1000000000 + written.st_mtim.tv_nsec;
    return {{"size", fs::file_size(input)},
            {"mtime_ns", mtime},
            {"config", "0123456789abcdef"},
            {"status", status},
            {"outputs", outputs}};
  }
  std::string saved_text() const { return read_text(dir_ / ".framepipe-manifest.json"); }

  fs::path dir_;
};

TEST_F(ManifestFile, NoEntryIsTheTreeDumpsBytes) {
  const Manifest manifest(dir_);
  manifest.save();
  const nlohmann::json tree = {{"version", 1}, {"files", nlohmann::json::object()}};
  EXPECT_EQ(saved_text(), dump_json(tree, 2) + "\n");
}

TEST_F(ManifestFile, ManyEntriesAreTheTreeDumpsBytesAcrossChunks) {
  Manifest manifest(dir_);
  nlohmann::json files = nlohmann::json::object();
  // Enough entries for several of the writer's 64 KiB chunks; none, one and two outputs; a
  // name in a subfolder and one with a quote and a non-ASCII letter, escaped in JSON.
  for (int i = 0; i < 1200; ++i) {
    const auto name = (i % 7 == 0 ? std::string("caf\xc3\xa9 \"") : std::string("img")) +
                      std::to_string(i) + ".jpg";
    const auto input = input_of_size(name, static_cast<std::size_t>(i));
    std::vector<std::string> outputs;
    for (int o = 0; o < i % 3; ++o) {
      outputs.push_back((dir_ / "out" / ("sub" + std::to_string(o)) / name).string());
    }
    const auto key = (i % 2 ? "a/" : "") + name;
    manifest.add(key, input, "0123456789abcdef", i % 5 ? "ok" : "damaged", outputs);
    files[key] = tree_entry_of(input, i % 5 ? "ok" : "damaged", outputs);
  }
  manifest.save();
  const auto text = saved_text();
  EXPECT_GT(text.size(), 2u * 64u * 1024u);
  EXPECT_EQ(text, dump_json(nlohmann::json{{"version", 1}, {"files", files}}, 2) + "\n");
}

TEST_F(ManifestFile, WhatItSavedReadsBackAsComplete) {
  const auto input = input_of_size("one.jpg", 10);
  const auto output = dir_ / "out" / "one.jpg";
  fs::create_directories(output.parent_path());
  std::ofstream(output) << "done";
  {
    Manifest manifest(dir_);
    manifest.record("one.jpg", input, "0123456789abcdef", "ok", {output});
  }
  const Manifest reread(dir_, "", true);
  EXPECT_TRUE(reread.is_complete("one.jpg", input, "0123456789abcdef"));
  EXPECT_FALSE(reread.is_complete("one.jpg", input, "fedcba9876543210")) << "another config";
  EXPECT_FALSE(reread.is_complete("two.jpg", input, "0123456789abcdef")) << "not recorded";
}

}  // namespace
}  // namespace framepipe::testing
