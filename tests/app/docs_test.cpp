// docs/stages.md is generated from the registry; this fails when someone forgets to regenerate.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

TEST(Docs, StageReferenceMatchesTheRegistry) {
  const std::filesystem::path docs = std::filesystem::path(FRAMEPIPE_SOURCE_DIR) / "docs/stages.md";
  std::ifstream file(docs);
  ASSERT_TRUE(file) << docs << " is missing";
  const std::string committed(std::istreambuf_iterator<char>(file), {});
  const auto generated = capture(shell_quote(FRAMEPIPE_BINARY) + " stages --markdown");
  EXPECT_EQ(committed, generated)
      << "docs/stages.md is stale: run `build/app/framepipe stages --markdown > docs/stages.md`";
  EXPECT_NE(generated.find("## gaussian_blur"), std::string::npos);
}

}  // namespace
}  // namespace framepipe::testing
