// Every committed fuzz corpus file (fuzz/corpus/<target>/: the seeds and the input of every crash
// found and fixed) through the same entry points as the fuzz targets, in the normal suite and
// under the sanitizers: a crash that was fixed stays fixed.
#include <gtest/gtest.h>

#include "fuzz/entry_points.h"
#include "tests/reliability/cli_helpers.h"

namespace framepipe::testing::reliability {
namespace {

std::vector<fs::path> corpus(const std::string& target) {
  const auto files = files_under(kSourceDir / "fuzz/corpus" / target);
  EXPECT_FALSE(files.empty()) << target;
  return files;
}

TEST(FuzzCorpus, ConfigInputsLoadOrFailWithAConfigError) {
  for (const auto& path : corpus("config")) {
    EXPECT_NO_THROW(fuzz::load_config(read_text(path))) << path;
  }
}

TEST(FuzzCorpus, MediaInputsDecodeOrFailWithAnError) {
  for (const auto& path : corpus("decode")) EXPECT_NO_THROW(fuzz::decode_file(path)) << path;
}

TEST(FuzzCorpus, ReportInputsCompareOrFailWithAnError) {
  for (const auto& path : corpus("compare")) {
    EXPECT_NO_THROW(fuzz::compare_reports(read_text(path))) << path;
  }
}

// Found by fuzz_config (fuzz/corpus/config/crash-set-on-scalar-config): a --set on a config file
// that is a YAML scalar read segments[-1] while building its message; `framepipe validate
// notes.txt --set pipeline.threads=2` aborted with std::bad_alloc.
TEST(FuzzRegression, SetOnAConfigThatIsNotAMapIsAConfigError) {
  try {
    load_config_text("just text", "notes.txt", {"pipeline.threads=2"}, fuzz::registry());
    FAIL() << "a scalar config was accepted";
  } catch (const ConfigError& error) {
    ASSERT_FALSE(error.problems().empty());
    EXPECT_NE(error.problems()[0].find("--set pipeline.threads=2: the config is not a map"),
              std::string::npos)
        << error.problems()[0];
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
