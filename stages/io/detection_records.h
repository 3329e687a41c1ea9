#pragma once
// The JSON records that the detection sinks (write_detections, post_events) make of a frame,
// and the rounding and timing every detection sink shares (write_detections_db too).
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/frame.h"

namespace framepipe::stages::detection_records {

// Six significant decimals are what a detector's score or a motion measure mean; without the
// rounding a float score prints as 1.0049899816513062.
inline double rounded(double value) { return std::round(value * 1e6) / 1e6; }

// The frame's time in seconds: from its pts, else from its index and the nominal rate.
inline double seconds(const Frame& frame) {
  if (frame.time_base.valid()) return frame.pts * frame.time_base.value();
  if (frame.frame_rate.valid()) return frame.index / frame.frame_rate.value();
  return 0;
}

inline nlohmann::ordered_json describe(const Detection& detection) {
  return {{"stage", detection.stage},
          {"label", detection.label},
          {"score", rounded(detection.score)},
          {"box",
           {{"x", detection.box.x},
            {"y", detection.box.y},
            {"w", detection.box.width},
            {"h", detection.box.height}}}};
}

// One record for the frame (`per_frame`: its detections and scalars) or one per detection
// (with the frame's scalars), keeping only detections from stage `from` when it is not empty.
inline std::vector<nlohmann::ordered_json> records(const Frame& frame, const std::string& file,
                                                   bool per_frame, const std::string& from) {
  using nlohmann::ordered_json;
  auto wanted = [&from](const Detection& detection) {
    return from.empty() || detection.stage == from;
  };
  ordered_json record = {{"file", file},
                         {"frame", frame.index},
                         {"pts", frame.pts},
                         {"time_s", rounded(seconds(frame))}};
  ordered_json scalars = ordered_json::object();
  for (const auto& [name, value] : frame.scalars) scalars[name] = rounded(value);
  std::vector<ordered_json> made;
  if (per_frame) {
    ordered_json detections = ordered_json::array();
    for (const auto& detection : frame.detections) {
      if (wanted(detection)) detections.push_back(describe(detection));
    }
    record["detections"] = std::move(detections);
    record["scalars"] = std::move(scalars);
    made.push_back(std::move(record));
    return made;
  }
  for (const auto& detection : frame.detections) {
    if (!wanted(detection)) continue;
    auto line = record;
    line.update(describe(detection));
    line["scalars"] = scalars;
    made.push_back(std::move(line));
  }
  return made;
}

}  // namespace framepipe::stages::detection_records
