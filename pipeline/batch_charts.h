#pragma once

// batch.html's charts, drawn as inline SVG (no script, no network): the batch's throughput over
// time and the timeline of files across the parallel slots.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/streamed_file.h"

namespace framepipe {

// `text` with &, <, >, " and ' escaped, for HTML text and attribute values.
std::string html_text(const std::string& text);

// A line chart of batch.json's `series` (t, fps); "" when it has no points.
std::string throughput_svg(const nlohmann::json& series);

// One row per slot, one bar per file of batch.json's `timeline` from its start to its end,
// coloured by status, its name and figures in a tooltip (none for an image run in the images'
// graph, whose bar covers it); "" when no file ran.
std::string timeline_svg(const nlohmann::json& timeline, double wall_s);

// Hands each of a sequence's JSON values to `visit`, one at a time (which may be made just for
// it): batch.json's per-file arrays without the whole array in memory.
using JsonRows = std::function<void(const std::function<void(const nlohmann::json&)>& visit)>;

// timeline_svg of the rows `timeline` hands over (twice: once for the slots and the end, once
// to draw), handed to `write` piece by piece; nothing when there are none.
void timeline_svg(const JsonRows& timeline, double wall_s, const TextSink& write);

}  // namespace framepipe
