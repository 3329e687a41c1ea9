#pragma once

// The engine's own settings, the keys of a config's pipeline, input, output and report
// sections, as one table: validation checks a config against it, config_json() prints a
// config through it, and `framepipe settings --markdown` generates docs/config.md's tables
// from it (tests/app/docs_test.cpp fails when they are stale).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/params.h"

namespace framepipe {

struct Config;

struct SettingSpec {
  ParamSpec spec;        // name, type, range and help; for a list, those of each item
  bool list = false;     // a YAML list ([a, b]) of spec's type
  std::string if_empty;  // set: a string that must not be "", and what to give instead
  // Stores validated values into a Config (one for a scalar, any number for a list), and
  // reads them back.
  std::function<void(Config&, const std::vector<ParamValue>&)> assign;
  std::function<nlohmann::ordered_json(const Config&)> value;
};

struct SettingsSection {
  std::string name;  // pipeline, input, output, report
  std::vector<SettingSpec> keys;
  std::string note;  // Markdown printed under the section's table in docs/config.md

  std::vector<std::string> key_names() const;
};

// The sections in the order a config lists them.
const std::vector<SettingsSection>& engine_settings();

// The tables of docs/config.md, with each key's type, default (a default Config's) and help.
std::string settings_markdown();
// The same for a terminal: `framepipe settings`.
std::string settings_text();

}  // namespace framepipe
