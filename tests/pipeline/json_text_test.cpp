// Strings that are not UTF-8 (file names are any bytes on Linux) in the JSON framepipe writes:
// escaped so that nlohmann-json can write them, and read back as the same bytes.
#include "pipeline/json_text.h"

#include <gtest/gtest.h>

namespace framepipe {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

TEST(JsonText, ValidUtf8IsUnchanged) {
  for (const std::string text : {"", "clip.mp4", "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC.mkv",
                                 "\xF0\x9F\x8E\xAC emoji", "100% done\\x80"}) {
    EXPECT_EQ(escape_invalid_utf8(text), text);
    EXPECT_EQ(unescape_invalid_utf8(text), text);
  }
}

TEST(JsonText, InvalidBytesBecomeTheReplacementCharacterAndTheirHex) {
  EXPECT_EQ(escape_invalid_utf8("a\xFF.mp4"), "a" + kReplacement + "FF.mp4");
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate (ED A0 80).
  EXPECT_EQ(escape_invalid_utf8("\x80"), kReplacement + "80");
  EXPECT_EQ(escape_invalid_utf8("\xE6\x97"), kReplacement + "E6" + kReplacement + "97");
  EXPECT_EQ(escape_invalid_utf8("\xC0\xAF"), kReplacement + "C0" + kReplacement + "AF");
  EXPECT_EQ(escape_invalid_utf8("\xED\xA0\x80"),
            kReplacement + "ED" + kReplacement + "A0" + kReplacement + "80");
  // The name's own U+FFFD is escaped too, so the marks stay unambiguous.
  EXPECT_EQ(escape_invalid_utf8(kReplacement + "FF"),
            kReplacement + "EF" + kReplacement + "BF" + kReplacement + "BDFF");
}

TEST(JsonText, EveryByteStringRoundTripsThroughWrittenJson) {
  const std::vector<std::string> names = {
      "bad\xFF\xFE name.mp4",   kReplacement + "41",         "\xC3",
      "ok\xC3\xA9\xFF\xC3\xA9", std::string("nul\0byte", 8), kReplacement + "zz" + kReplacement};
  for (const auto& name : names) {
    const nlohmann::json value = {{"input", name}, {name, {name, 1}}};
    const auto parsed = nlohmann::json::parse(dump_json(value, 2));
    EXPECT_EQ(unescape_invalid_utf8(parsed["input"].get<std::string>()), name);
    ASSERT_EQ(parsed.size(), 2u);
    for (const auto& [key, item] : parsed.items()) {
      if (key == "input") continue;
      EXPECT_EQ(unescape_invalid_utf8(key), name);
      EXPECT_EQ(unescape_invalid_utf8(item[0].get<std::string>()), name);
    }
  }
  // Every single byte value.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(unescape_invalid_utf8(
                nlohmann::json::parse(dump_json(nlohmann::json(all))).get<std::string>()),
            all);
}

TEST(JsonText, PlainDumpThrowsWhereDumpJsonDoesNot) {
  const nlohmann::json value = {{"input", "a\xFF.mp4"}};
  EXPECT_THROW(value.dump(), nlohmann::json::type_error);
  EXPECT_NO_THROW(dump_json(value));
}

}  // namespace
}  // namespace framepipe
