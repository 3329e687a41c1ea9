#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace framepipe::app {

// A setting's value in tune.json (a count, or a rung's name) as text.
std::string tune_value_text(const nlohmann::json& value);
// Changes in tune.json ({key, from, to}) as "key 1 -> 2, ..."; "the config as it is" for none.
std::string changes_text(const nlohmann::json& changes);

// The terminal summary of a tune.json: the gain, the candidates measured, the median prediction
// error, and one line per step.
std::string tune_summary(const nlohmann::json& tune);

// tune.html: predicted against measured fps per step, as a chart and a table; self-contained.
std::string tune_html(const nlohmann::json& tune);

}  // namespace framepipe::app
