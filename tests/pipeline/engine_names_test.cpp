// The engine (pipeline/) knows stages only through their metadata: no stage type, codec, speed
// ladder rung or stage parameter name appears in its sources. The names come from the registry
// itself, so a new stage or parameter is covered without editing this test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "pipeline/config.h"
#include "stages/register_all.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

// Codecs a config may name; the engine must name none of them.
const std::set<std::string> kCodecs = {"libx264", "libx265", "mpeg4", "ffv1",  "libvpx-vp9",
                                       "libvpx",  "h264",    "hevc",  "mjpeg", "aac"};

struct EngineSource {
  std::string file;
  std::string text;                   // the whole file
  std::vector<std::string> literals;  // its ordinary string literals, unescaped
};

// The string literals of a C++ source, skipping comments, character literals and raw strings
// (the HTML report's embedded page, whose JavaScript has its own vocabulary).
std::vector<std::string> string_literals(const std::string& text) {
  std::vector<std::string> literals;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "//") == 0) {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
    } else if (text.compare(i, 2, "/*") == 0) {
      i = text.find("*/", i) + 1;
    } else if (text[i] == 'R' && i + 1 < text.size() && text[i + 1] == '"') {
      const auto open = text.find('(', i);
      const auto close = ")" + text.substr(i + 2, open - i - 2) + "\"";
      i = text.find(close, open) + close.size() - 1;
    } else if (text[i] == '\'' || text[i] == '"') {
      const char quote = text[i];
      std::string literal;
      for (++i; i < text.size() && text[i] != quote; ++i) {
        if (text[i] == '\\') ++i;
        literal += text[i];
      }
      if (quote == '"') literals.push_back(literal);
    }
  }
  return literals;
}

std::vector<EngineSource> engine_sources() {
  std::vector<EngineSource> sources;
  for (const auto& entry : fs::directory_iterator(fs::path(FRAMEPIPE_SOURCE_DIR) / "pipeline")) {
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".h") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    sources.push_back({entry.path().filename().string(), text.str(), string_literals(text.str())});
  }
  return sources;
}

bool has_word(const std::string& text, const std::string& word) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !is_word(text[at - 1]);
    const bool ends = at + word.size() == text.size() || !is_word(text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

// The keys of the engine's own settings (pipeline.threads, input.path, output.dir, ...) and of
// a stage entry: names the engine owns, even where a stage has a parameter of the same name.
std::set<std::string> engine_keys() {
  std::set<std::string> keys = {"name", "type", "input", "concurrency", "params"};
  std::function<void(const nlohmann::ordered_json&)> collect = [&](const auto& json) {
    for (const auto& [key, value] : json.items()) {
      keys.insert(key);
      if (value.is_object()) collect(value);
    }
  };
  collect(config_json(Config{}));
  // The report's and manifest's own JSON keys: advice (`from`, `to`), the run's `config`, the
  // trace's time unit (`ms`).
  keys.insert({"from", "to", "config", "ms"});
  return keys;
}

class EngineNamesTest : public ::testing::Test {
 protected:
  EngineNamesTest() { stages::register_all(registry_); }

  // Stage types and codecs: stage knowledge the engine must not hold in any form.
  std::set<std::string> stage_words() const {
    std::set<std::string> words(kCodecs);
    for (const auto* info : registry_.all()) words.insert(info->type);
    return words;
  }

  // The rungs of the stages' speed ladders (for their defaults: x264's presets), which are
  // everyday words too ("fast", "medium").
  std::set<std::string> ladder_rungs() const {
    std::set<std::string> rungs;
    for (const auto* info : registry_.all()) {
      std::map<std::string, ParamValue> defaults;
      for (const auto& spec : info->params) defaults[spec.name] = spec.default_value;
      for (const auto& spec : info->params) {
        if (spec.ladder) {
          for (const auto& rung : spec.ladder(Params(defaults))) rungs.insert(rung);
        }
      }
    }
    return rungs;
  }

  Registry registry_;
};

TEST_F(EngineNamesTest, TheRegistryGivesNamesToLookFor) {
  EXPECT_TRUE(stage_words().contains("gaussian_blur"));
  EXPECT_TRUE(ladder_rungs().contains("veryfast")) << "encode's speed ladder, from its ParamSpec";
  EXPECT_EQ(string_literals("f(\"a\\\"b\", 'c'); // \"no\"\n R\"x(\"raw\")x\" \"d\""),
            (std::vector<std::string>{"a\"b", "d"}));
}

TEST_F(EngineNamesTest, NoStageTypeOrCodecInTheEngine) {
  const auto words = stage_words();
  std::vector<std::string> offenders;
  for (const auto& source : engine_sources()) {
    for (const auto& word : words) {
      // A type that is also an everyday word ("decode", "resize") may appear in a comment; in
      // a string the engine prints or compares, it may not.
      const bool distinctive = word.find_first_of("_0123456789-") != std::string::npos;
      if (distinctive && has_word(source.text, word)) {
        offenders.push_back(source.file + ": " + word);
        continue;
      }
      for (const auto& literal : source.literals) {
        if (has_word(literal, word)) offenders.push_back(source.file + ": \"" + literal + "\"");
      }
    }
  }
  EXPECT_TRUE(offenders.empty()) << ::testing::PrintToString(offenders);
}

TEST_F(EngineNamesTest, NoStageParameterNameOrLadderRungInTheEngine) {
  const auto engine = engine_keys();
  const std::set<std::string> engine_counters = {counter::expected_frames,
                                                 counter::damaged_packets};
  auto names = ladder_rungs();
  for (const auto* info : registry_.all()) {
    for (const auto& spec : info->params) names.insert(spec.name);
  }
  ASSERT_TRUE(names.contains("max_in_flight"));
  std::vector<std::string> offenders;
  for (const auto& source : engine_sources()) {
    for (const auto& name : names) {
      // A stage's parameter spelled as a config key ("stages.x.params.threads") is never the
      // engine's, even where the engine has a setting of the same name.
      const bool owned = engine.contains(name) || engine_counters.contains(name);
      const bool distinctive = name.find('_') != std::string::npos;
      if (!owned && distinctive && has_word(source.text, name)) {
        offenders.push_back(source.file + ": " + name);
        continue;
      }
      // A plain word ("preset") counts where the engine uses it as a key: the whole string,
      // quoted inside one, or after "params.".
      for (const auto& literal : source.literals) {
        const bool as_key = literal == name ||
                            literal.find("'" + name + "'") != std::string::npos ||
                            literal.find("`" + name + "`") != std::string::npos;
        if ((!owned && as_key) || has_word(literal, ".params." + name)) {
          offenders.push_back(source.file + ": \"" + literal + "\"");
        }
      }
    }
  }
  EXPECT_TRUE(offenders.empty()) << ::testing::PrintToString(offenders);
}

}  // namespace
}  // namespace framepipe::testing
