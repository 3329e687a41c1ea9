#pragma once

// batch.html's charts, drawn as inline SVG (no script, no network): the batch's throughput over
// time and the timeline of files across the parallel slots.
#include <nlohmann/json.hpp>
#include <string>

namespace framepipe {

// `text` with &, <, >, " and ' escaped, for HTML text and attribute values.
std::string html_text(const std::string& text);

// A line chart of batch.json's `series` (t, fps); "" when it has no points.
std::string throughput_svg(const nlohmann::json& series);

// One row per slot, one bar per file of batch.json's `timeline` from its start to its end,
// coloured by status, its name and figures in a tooltip; "" when no file ran.
std::string timeline_svg(const nlohmann::json& timeline, double wall_s);

}  // namespace framepipe
