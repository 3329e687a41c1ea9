#include "app/tune_report.h"

#include <algorithm>

#include "pipeline/batch_charts.h"
#include "pipeline/safe_text.h"
#include "pipeline/text_format.h"

namespace framepipe::app {

namespace {

double number_or(const nlohmann::json& value, double otherwise) {
  return value.is_number() ? value.get<double>() : otherwise;
}

}  // namespace

std::string tune_value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string changes_text(const nlohmann::json& changes) {
  std::string text;
  for (const auto& change : changes) {
    text += (text.empty() ? "" : ", ") + change["key"].get<std::string>() + " " +
            tune_value_text(change["from"]) + " -> " + tune_value_text(change["to"]);
  }
  return text.empty() ? "the config as it is" : text;
}

std::string tune_summary(const nlohmann::json& tune) {
  const double baseline = tune["baseline_fps"].get<double>();
  const double best = tune["best_fps"].get<double>();
  const int candidates = tune["measured_candidates"].get<int>();
  std::string text;
  for (const auto& step : tune["steps"]) {
    const int number = step["step"].get<int>();
    text += "  " + std::to_string(number) + ". " + safe_line(changes_text(step["changes"])) + ": ";
    if (step["predicted_fps"].is_number())
      text += "predicted " + format("%.1f", step["predicted_fps"].get<double>()) + " fps, ";
    text += step["measured_fps"].is_number()
                ? "measured " + format("%.1f", step["measured_fps"].get<double>()) + " fps"
                : "failed";
    if (step.contains("best_fps"))
      text += " (best beside it " + format("%.1f", step["best_fps"].get<double>()) + ")";
    if (number > 0) text += step["kept"].get<bool>() ? ": kept" : ": not kept";
    text += "\n";
  }
  const std::string error =
      tune["median_prediction_error"].is_number()
          ? "; median prediction error " +
                format("%.0f%%", tune["median_prediction_error"].get<double>() * 100)
          : "";
  const std::string measured = std::to_string(candidates) +
                               (candidates == 1 ? " measured candidate" : " measured candidates");
  if (tune["changes"].empty()) {
    text += "tune: no change kept: the config is at its best for what tune may change (" +
            format("%.1f", baseline) + " fps; " + measured + error +
            "; stopped: " + tune["stopped"].get<std::string>() + "); nothing changed\n";
  } else {
    text += "tune: " + format("%.2f", best / baseline) + "x faster (" + format("%.1f", baseline) +
            " -> " + format("%.1f", best) + " fps) in " + measured + error + "; " +
            safe_line(changes_text(tune["changes"])) + "\n";
  }
  return text;
}

std::string tune_html(const nlohmann::json& tune) {
  const auto& steps = tune["steps"];
  double top = 1;
  for (const auto& step : steps) {
    top = std::max({top, number_or(step["predicted_fps"], 0), number_or(step["measured_fps"], 0)});
  }
  const int bar = 22, gap = 18, height = 220;
  const int width = 60 + static_cast<int>(steps.size()) * (2 * bar + gap);
  std::string chart = "<svg width=\"" + std::to_string(width) + "\" height=\"" +
                      std::to_string(height + 40) + "\" role=\"img\">\n";
  int x = 50;
  for (const auto& step : steps) {
    auto column = [&](double fps, const char* colour, const char* what) {
      const int h = static_cast<int>(fps / top * height);
      chart += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(height - h + 10) +
               "\" width=\"" + std::to_string(bar) + "\" height=\"" + std::to_string(h) +
               "\" fill=\"" + colour + "\"><title>" + what + " " + format("%.1f", fps) +
               " fps</title></rect>\n";
      x += bar;
    };
    if (step["predicted_fps"].is_number()) {
      column(step["predicted_fps"].get<double>(), "#9ecae1", "predicted");
    } else {
      x += bar;
    }
    column(number_or(step["measured_fps"], 0), "#3182bd", "measured");
    chart += "<text x=\"" + std::to_string(x - bar) + "\" y=\"" + std::to_string(height + 30) +
             "\" text-anchor=\"middle\">" + std::to_string(step["step"].get<int>()) + "</text>\n";
    x += gap;
  }
  chart += "</svg>\n";

  std::string rows;
  for (const auto& step : steps) {
    rows += "<tr><td>" + std::to_string(step["step"].get<int>()) + "</td><td>" +
            html_text(changes_text(step["changes"])) + "</td><td>" +
            (step["predicted_fps"].is_number() ? format("%.1f", step["predicted_fps"].get<double>())
                                               : std::string("-")) +
            "</td><td>" +
            (step["measured_fps"].is_number() ? format("%.1f", step["measured_fps"].get<double>())
                                              : std::string("failed")) +
            "</td><td>" +
            (step.contains("spread") ? format("%.0f%%", step["spread"].get<double>() * 100) : "") +
            "</td><td>" +
            (step.contains("best_fps") ? format("%.1f", step["best_fps"].get<double>()) : "") +
            "</td><td>" +
            (step.contains("prediction_error")
                 ? format("%+.0f%%", step["prediction_error"].get<double>() * 100)
                 : "") +
            "</td><td>" +
            (step["step"].get<int>() == 0 ? ""
             : step["kept"].get<bool>()   ? "yes"
                                          : "no") +
            "</td></tr>\n";
  }
  std::string summary = html_text(tune_summary(tune));
  return "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>framepipe tune</title>\n"
         "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
         "td:nth-child(2){text-align:left}pre{background:#f6f6f6;padding:1em}</style>"
         "</head><body>\n<h1>framepipe tune: " +
         html_text(tune["config"].get<std::string>()) + "</h1>\n<pre>" + summary +
         "</pre>\n<h2>Predicted (light) and measured (dark) fps per step</h2>\n" + chart +
         "<h2>Steps</h2>\n<table><tr><th>step</th><th>changes</th><th>predicted fps</th>"
         "<th>measured fps</th><th>spread</th><th>best beside it</th><th>prediction error</th>"
         "<th>kept</th></tr>\n" +
         rows + "</table>\n</body></html>\n";
}

}  // namespace framepipe::app
