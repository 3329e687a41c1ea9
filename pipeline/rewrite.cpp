#include "pipeline/rewrite.h"

#include <algorithm>
#include <optional>

#include "pipeline/config.h"

namespace framepipe {

namespace {

PixelProperties properties_of(const StageConfig& stage) {
  if (!stage.info || stage.info->kind != StageKind::transform || !stage.info->pixel_properties) {
    return {};
  }
  return stage.info->pixel_properties(stage.params);
}

std::optional<std::size_t> index_of(const std::vector<StageConfig>& stages,
                                    const std::string& name) {
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].name == name) return i;
  }
  return std::nullopt;
}

std::size_t consumers_of(const std::vector<StageConfig>& stages, const std::string& name) {
  return static_cast<std::size_t>(std::count_if(
      stages.begin(), stages.end(), [&](const StageConfig& s) { return s.input == name; }));
}

// The filter feeding the gray map at `gray`, when moving the map ahead of it keeps the output:
// a channel-wise linear filter whose frames go to the map alone (another consumer would read
// the colour the move takes away).
std::optional<std::size_t> filter_to_pass(const std::vector<StageConfig>& stages,
                                          std::size_t gray) {
  if (!properties_of(stages[gray]).linear_map_to_gray) return std::nullopt;
  const auto filter = index_of(stages, stages[gray].input);
  if (!filter || !properties_of(stages[*filter]).channelwise_linear_filter ||
      consumers_of(stages, stages[*filter].name) != 1) {
    return std::nullopt;
  }
  return filter;
}

// The gray map takes the filter's place and input, the filter the map's place, and the map's
// consumers read the filter. The list stays in an order where each stage's input comes first:
// the stages between the two read neither.
void move_ahead(std::vector<StageConfig>& stages, std::size_t gray, std::size_t filter) {
  auto map = stages[gray];
  auto filtered = stages[filter];
  for (auto& stage : stages) {
    if (stage.input == map.name) stage.input = filtered.name;
  }
  map.input = filtered.input;
  filtered.input = map.name;
  stages[filter] = std::move(map);
  stages[gray] = std::move(filtered);
}

}  // namespace

std::string GraphRewrite::text() const {
  return name + ": '" + moved + "' now runs before '" + before + "', " + effect;
}

void apply_rewrites(Config& config) {
  if (!config.rewrites) return;
  const auto written = config.stages;
  auto& stages = config.stages;
  // Each move takes a gray map one stage nearer the source, so this ends.
  for (bool moved = true; moved;) {
    moved = false;
    for (std::size_t gray = 0; gray < stages.size(); ++gray) {
      const auto filter = filter_to_pass(stages, gray);
      if (!filter) continue;
      config.rewrites_made.push_back(
          {"gray_before_filter", stages[gray].name, stages[*filter].name,
           "which filters one gray channel instead of three (the same output up to rounding)"});
      move_ahead(stages, gray, *filter);
      moved = true;
    }
  }
  if (!config.rewrites_made.empty()) config.written_stages = written;
}

}  // namespace framepipe
