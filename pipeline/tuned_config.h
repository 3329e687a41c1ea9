#pragma once

#include <string>
#include <vector>

#include "pipeline/registry.h"

namespace framepipe {

// One setting to write into a config: "stages.people.concurrency" (or
// "stages.NAME.params.KEY", "pipeline.KEY") set to `value`, with `note` as a comment above it.
struct SettingEdit {
  std::string key;
  std::string value;
  std::string note;
};

// The config text `yaml` with each edit made in place: its comments, order and layout kept, a
// value replaced where the key is set, a key added to its map (flow or block) where it is not.
// The result is checked: loaded, it must give the same effective config as `yaml` with the edits
// as --set overrides; where it would not (a layout this cannot edit), the effective config is
// written instead, headed by the notes. Throws ConfigError when `yaml` with the edits is invalid.
std::string config_with_edits(const std::string& yaml, const std::string& origin,
                              const std::vector<SettingEdit>& edits, const Registry& registry);

}  // namespace framepipe
