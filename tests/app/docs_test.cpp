// docs/stages.md is generated from the registry; this fails when someone forgets to regenerate.
#include <gtest/gtest.h>

#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

TEST(Docs, StageReferenceMatchesTheRegistry) {
  const std::filesystem::path docs = std::filesystem::path(FRAMEPIPE_SOURCE_DIR) / "docs/stages.md";
  ASSERT_TRUE(std::filesystem::exists(docs)) << docs << " is missing";
  const std::string committed = read_text(docs);
  const auto generated = capture(shell_quote(FRAMEPIPE_BINARY) + " stages --markdown");
  EXPECT_EQ(committed, generated)
      << "docs/stages.md is stale: run `build/app/framepipe stages --markdown > docs/stages.md`";
  EXPECT_NE(generated.find("## gaussian_blur"), std::string::npos);
}

}  // namespace
}  // namespace framepipe::testing
