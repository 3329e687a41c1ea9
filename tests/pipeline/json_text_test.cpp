// Strings that are not UTF-8 (file names are any bytes on Linux) in the JSON framepipe writes:
// escaped so that nlohmann-json can write them, and read back as the same bytes. And JSON
// streamed piece by piece (stream_json, write_json_file) against nlohmann's own dump.
#include "pipeline/json_text.h"

#include <gtest/gtest.h>

#include "pipeline/streamed_file.h"
#include "tests/support/media.h"

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

// A value with every kind of JSON: nesting, empty containers, numbers of each type, a string
// that is not UTF-8 and ones with characters JSON escapes, in values and keys, beside every
// printable ASCII character that it writes as it is.
nlohmann::json every_kind_of_json_value() {
  return {{"schema", "framepipe-batch/1"},
          {"empty_object", nlohmann::json::object()},
          {"empty_array", nlohmann::json::array()},
          {"null", nullptr},
          {"flags", {true, false}},
          {"numbers", {0, -7, 18446744073709551615ull, 0.1, -2.5e-300, 1e300}},
          {"strings",
           {"", "a\xFF.mp4", "tab\t \"quote\" back\\slash \x01", "caf\xC3\xA9", "del\x7F ~"}},
          {"key \"quoted\" \\ \xC3\xA9", "plain ASCII !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~"},
          {"files",
           {{{"input", "in/a.jpg"}, {"outputs", {"out/a.jpg"}}, {"error", nullptr}},
            {{"input", "in/b.jpg"}, {"outputs", nlohmann::json::array()}, {"wall_s", 0.25}}}},
          {"deep", {{"a", {{"b", {{"c", {1, {2, {3}}}}}}}}}}};
}

std::string streamed_json_text(const nlohmann::json& value, int indent, int depth = 0) {
  std::string text;
  stream_json(
      value, indent, [&](std::string_view piece) { text += piece; }, depth);
  return text;
}

TEST(JsonStream, TextIsDumpJsonsForEveryIndent) {
  const auto value = every_kind_of_json_value();
  for (const int indent : {-1, 0, 2, 4}) {
    EXPECT_EQ(streamed_json_text(value, indent), dump_json(value, indent)) << "indent " << indent;
  }
  for (const nlohmann::json& scalar : {nlohmann::json(3), nlohmann::json("x\xFE"),
                                       nlohmann::json::object(), nlohmann::json::array()}) {
    EXPECT_EQ(streamed_json_text(scalar, 2), dump_json(scalar, 2));
  }
}

TEST(JsonStream, AValueAtADepthIsIndentedAsInsideItsDocument) {
  const auto inner = every_kind_of_json_value();
  const nlohmann::json outer = {{"wrapper", {{"inner", inner}}}};
  // `inner` sits two levels deep in `outer`: its text is the middle of outer's.
  const auto whole = dump_json(outer, 2);
  const std::string before = "{\n  \"wrapper\": {\n    \"inner\": ";
  const std::string after = "\n  }\n}";
  ASSERT_EQ(whole.substr(0, before.size()), before);
  EXPECT_EQ(before + streamed_json_text(inner, 2, 2) + after, whole);
}

TEST(JsonStream, FileIsDumpJsonsTextAndALineBreak) {
  const auto dir = framepipe::testing::make_temp_dir("framepipe-json-stream");
  // Many entries, so the file spans several of the writer's chunks.
  auto value = every_kind_of_json_value();
  for (int i = 0; i < 6000; ++i) {
    value["files"].push_back({{"input", "in/" + std::to_string(i) + ".jpg"}, {"frames", i}});
  }
  write_json_file(dir / "batch.json", value, 2);
  const auto text = framepipe::testing::read_text(dir / "batch.json");
  EXPECT_GT(text.size(), 2u * 64u * 1024u);
  EXPECT_EQ(text, dump_json(value, 2) + "\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace framepipe
