// Every committed fuzz corpus file (fuzz/corpus/<target>/: the seeds and the input of every crash
// found and fixed) through the same entry points as the fuzz targets, in the normal suite and
// under the sanitizers: a crash that was fixed stays fixed, and each file still has the outcome
// documented here (accepted with what it gives, or rejected with the error a user sees).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fuzz/entry_points.h"
#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

// What framepipe does with a corpus file, as documented here: accepted, with `text` in what it
// gave (the effective config, the comparison), or rejected with `text` in the error a user sees.
struct Documented {
  bool accepted = true;
  std::string text;
  int frames = 0;  // decode: how many frames it gives (counted with ffprobe for a valid file)
};

// Runs every file of fuzz/corpus/<target>/ through `entry_point` and compares what became of it
// with its documented outcome. A corpus file without one fails, so each new file gets its line.
template <typename EntryPoint>
void expect_documented_outcomes(const std::string& target,
                                const std::map<std::string, Documented>& documented,
                                EntryPoint entry_point) {
  const auto files = files_under(kSourceDir / "fuzz/corpus" / target);
  std::set<std::string> names;
  for (const auto& path : files) names.insert(path.filename().string());
  std::set<std::string> documented_names;
  for (const auto& [name, outcome] : documented) documented_names.insert(name);
  EXPECT_EQ(names, documented_names)
      << "every corpus file of " << target << " has its documented outcome, and only those";
  for (const auto& path : files) {
    const auto it = documented.find(path.filename().string());
    if (it == documented.end()) continue;
    const auto& expected = it->second;
    SCOPED_TRACE(path.string());
    fuzz::Outcome outcome;
    ASSERT_NO_THROW(outcome = entry_point(path));
    ASSERT_EQ(outcome.accepted(), expected.accepted) << outcome.error;
    const auto& said = expected.accepted ? outcome.result : outcome.error;
    EXPECT_NE(said.find(expected.text), std::string::npos) << said;
    EXPECT_EQ(outcome.frames, expected.frames);
  }
}

TEST(FuzzCorpus, ConfigInputsHaveTheirDocumentedOutcome) {
  const std::map<std::string, Documented> documented = {
      {"branches.yaml", {true, "probability: 0.5"}},
      // Its --set's problem comes after the file's (FuzzRegression below).
      {"crash-set-on-scalar-config", {false, "fuzz.yaml:1:1: the config must be a map"}},
      {"decode-only.yaml", {true, "max_frames_in_flight: 32"}},
      {"default.yaml", {true, "name: edges"}},
      {"faces-anonymize.yaml", {true, "type: detect_faces"}},
      {"misspelled-type.yaml", {false, "3:24: unknown stage type 'gaussian_blurr'"}},
      {"motion-index.yaml", {true, "type: motion"}},
      {"people-overlay.yaml", {true, "type: detect_people"}},
      {"resize-gray.yaml", {true, "codec: ffv1"}},
      {"thumbnails.yaml", {true, "type: contact_sheet"}},
      // The --set's value, not the file's 2.
      {"with-overrides.yaml", {true, "sigma: 3.0"}},
  };
  expect_documented_outcomes("config", documented, [](const fs::path& path) {
    return fuzz::load_config(read_text(path));
  });
}

// An accepted file gives every frame, as `ffprobe -count_frames` counts them (the damaged crash
// input too).
TEST(FuzzCorpus, MediaInputsHaveTheirDocumentedOutcome) {
  const std::map<std::string, Documented> documented = {
      {"crash-colour-primaries-205", {true, "", 4}},
      {"ffv1.mkv", {true, "", 3}},
      {"h264.mp4", {true, "", 4}},
      {"mjpeg.avi", {true, "", 3}},
      {"mpeg2.ts", {true, "", 4}},
      {"mpeg4.mkv", {true, "", 4}},
      {"truncated-h264.mp4",
       {false, "Invalid data found when processing input",
        0}},  // its first 600 bytes: no moov atom
      {"vp8.webm", {true, "", 4}},
  };
  expect_documented_outcomes("decode", documented, fuzz::decode_file);
}

TEST(FuzzCorpus, ReportInputsHaveTheirDocumentedOutcome) {
  const std::map<std::string, Documented> documented = {
      {"one-report.json", {true, "config: identical"}},  // compared with itself
      {"other-schema.json", {false, "not a framepipe-report/1 report"}},
      {"schema-only.json", {true, "0 frames"}},
      {"two-reports.json", {true, "stages.blur.params.sigma: 2.0 -> 3.0"}},
  };
  expect_documented_outcomes("compare", documented, [](const fs::path& path) {
    return fuzz::compare_reports(read_text(path));
  });
}

// Found by fuzz_config (fuzz/corpus/config/crash-set-on-scalar-config): a --set on a config file
// that is a YAML scalar read segments[-1] while building its message; `framepipe validate
// notes.txt --set pipeline.threads=2` aborted with std::bad_alloc.
TEST(FuzzRegression, SetOnAConfigThatIsNotAMapIsAConfigError) {
  try {
    load_config_text("just text", "notes.txt", {"pipeline.threads=2"}, fuzz::registry());
    FAIL() << "a scalar config was accepted";
  } catch (const ConfigError& error) {
    // The file's problem, then the --set's: every one at once.
    ASSERT_EQ(error.problems().size(), 2u);
    EXPECT_NE(error.problems()[0].find("notes.txt:1:1: the config must be a map"),
              std::string::npos)
        << error.problems()[0];
    EXPECT_NE(error.problems()[1].find("--set pipeline.threads=2: the config is not a map"),
              std::string::npos)
        << error.problems()[1];
  }
}

// Found by fuzz_decode (fuzz/corpus/decode/crash-colour-primaries-205): libav passed a damaged
// stream's color_primaries 205 through unchecked, and decode loaded it as an AVColorPrimaries,
// undefined behaviour that UBSan stops at (the sanitizer build runs this test).
TEST(FuzzRegression, MediaWithUndefinedColourTagsDecodesOrFailsCleanly) {
  EXPECT_NO_THROW(fuzz::decode_file(kSourceDir / "fuzz/corpus/decode/crash-colour-primaries-205"));
}

// Found writing fuzz_compare's seeds (fuzz/corpus/compare/schema-only.json): a report.json with the
// right schema and no "stages" made `report show` / `report compare` index a missing member of a
// const json, which is undefined behaviour (an assertion failure in debug builds).
TEST(FuzzRegression, ReportWithOnlyTheSchemaIsSummarizedNotCrashedOn) {
  const nlohmann::json bare = {{"schema", kReportSchema}};
  std::string summary;
  EXPECT_NO_THROW(summary = format_summary(bare));
  EXPECT_NE(summary.find("stage"), std::string::npos);
  const nlohmann::json partial = {
      {"schema", kReportSchema}, {"stages", {{{"name", "blur"}}}}, {"config", 3}};
  std::string comparison;
  EXPECT_NO_THROW(comparison = format_comparison(bare, partial));
  EXPECT_NE(comparison.find("fps"), std::string::npos);
  EXPECT_NO_THROW(format_summary(partial));
}

}  // namespace
}  // namespace framepipe::testing::reliability
