#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace framepipe {

// report.html: one self-contained page (inline CSS and JS, no network) that shows a report.json
// (docs/report.schema.json) with its tables and charts. The JSON is embedded as data; every string
// from it reaches the page as text, so file names or errors cannot inject markup.
std::string render_html_report(const nlohmann::json& report);

}  // namespace framepipe
