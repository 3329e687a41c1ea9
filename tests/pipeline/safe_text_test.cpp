// pipeline/safe_text.h against strings worked out by hand.
#include "pipeline/safe_text.h"

#include <gtest/gtest.h>

namespace framepipe {
namespace {

TEST(SafeText, RedactsThePasswordOfEveryUrlAndNothingElse) {
  EXPECT_EQ(redact_credentials("http://user:secret@host/clip.mp4"),
            "http://user:***@host/clip.mp4");
  EXPECT_EQ(
      redact_credentials("cannot open 'https://a:b@h:8080/x?y=1' and 'postgresql://u:p@db/n'"),
      "cannot open 'https://a:***@h:8080/x?y=1' and 'postgresql://u:***@db/n'");
  // A password holding '@' and ':': the user information ends at the last '@'.
  EXPECT_EQ(redact_credentials("http://u:p@ss:w@host/"), "http://u:***@host/");
  // No password, no user information, an '@' only in the path, no URL: unchanged.
  for (const char* same : {"postgresql://postgres@127.0.0.1:5432/db", "http://host:80/a@b",
                           "in/clip.mp4", "user:secret@host", "://x:y@z"}) {
    EXPECT_EQ(redact_credentials(same), same);
  }
  const nlohmann::json json = {{"input", "http://u:pw@h/a"},
                               {"list", {"rtsp://v:pw2@h/s", 3}},
                               {"nested", {{"url", "postgres://w:pw3@h/d"}}}};
  EXPECT_EQ(redact_json_credentials(json).dump(),
            R"({"input":"http://u:***@h/a","list":["rtsp://v:***@h/s",3],)"
            R"("nested":{"url":"postgres://w:***@h/d"}})");
}

TEST(SafeText, EscapesControlCharactersSoANameStaysOnOneLine) {
  EXPECT_EQ(printable("a\nb\rc\td\x1b[2Je\x7f"
                      "f"),
            "a\\nb\\rc\\td\\x1b[2Je\\x7ff");
  EXPECT_EQ(printable("plain name, 한국어.mp4"), "plain name, 한국어.mp4");
  EXPECT_EQ(safe_line("http://u:pw@h/a\nb"), "http://u:***@h/a\\nb");
}

}  // namespace
}  // namespace framepipe
