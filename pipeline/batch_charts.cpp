#include "pipeline/batch_charts.h"

#include <algorithm>
#include <cstdio>

namespace framepipe {

namespace {

constexpr double kWidth = 760;
constexpr double kLeft = 60;  // room for the axis labels
constexpr double kPlot = kWidth - kLeft - 10;

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

double value_at(const nlohmann::json& array, std::size_t i) {
  return i < array.size() && array[i].is_number() ? array[i].get<double>() : 0.0;
}

std::string label(double x, double y, const std::string& text, const char* anchor = "end") {
  return "<text x=\"" + number_text(x) + "\" y=\"" + number_text(y) + "\" text-anchor=\"" + anchor +
         "\">" + html_text(text) + "</text>";
}

const char* colour_of(const std::string& status) {
  if (status == "ok") return "#4c8bd6";
  if (status == "damaged") return "#e0a030";
  return "#d64c4c";  // failed, cancelled
}

}  // namespace

std::string html_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string throughput_svg(const nlohmann::json& series) {
  if (!series.is_object() || !series.contains("t") || !series.contains("fps")) return "";
  const auto& t = series["t"];
  const auto& fps = series["fps"];
  if (!t.is_array() || !fps.is_array() || t.empty()) return "";
  double t_max = 0, fps_max = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    t_max = std::max(t_max, value_at(t, i));
    fps_max = std::max(fps_max, value_at(fps, i));
  }
  const double bin_s =
      series.contains("bin_s") && series["bin_s"].is_number() ? series["bin_s"].get<double>() : 0.0;
  t_max = std::max(t_max + bin_s / 2, 1e-9);
  fps_max = std::max(fps_max, 1e-9);
  constexpr double kHeight = 160, kTop = 10, kBottom = kTop + 120;
  std::string points;
  for (std::size_t i = 0; i < t.size(); ++i) {
    points += number_text(kLeft + kPlot * value_at(t, i) / t_max) + "," +
              number_text(kBottom - 120 * value_at(fps, i) / fps_max) + " ";
  }
  return "<svg class=\"throughput\" width=\"" + number_text(kWidth) + "\" height=\"" +
         number_text(kHeight) + "\" role=\"img\" aria-label=\"frames per second over time\">" +
         "<line x1=\"" + number_text(kLeft) + "\" y1=\"" + number_text(kBottom) + "\" x2=\"" +
         number_text(kWidth - 10) + "\" y2=\"" + number_text(kBottom) + "\" stroke=\"#999\"/>" +
         label(kLeft - 4, kTop + 10, number_text(fps_max) + " fps") +
         label(kLeft - 4, kBottom, "0") +
         label(kWidth - 10, kBottom + 16, number_text(t_max) + " s") +
         "<polyline fill=\"none\" stroke=\"#4c8bd6\" stroke-width=\"2\" points=\"" + points +
         "\"/></svg>\n";
}

std::string timeline_svg(const nlohmann::json& timeline, double wall_s) {
  if (!timeline.is_array()) return "";
  std::string svg;
  timeline_svg(
      [&](const auto& visit) {
        for (const auto& file : timeline) visit(file);
      },
      wall_s, [&](std::string_view text) { svg += text; });
  return svg;
}

void timeline_svg(const JsonRows& timeline, double wall_s, const TextSink& write) {
  int slots = 1;
  double end_max = wall_s;
  bool any = false;
  timeline([&](const nlohmann::json& file) {
    any = true;
    slots = std::max(slots, file.value("slot", 0) + 1);
    end_max = std::max(end_max, file.value("end_s", 0.0));
  });
  if (!any) return;
  end_max = std::max(end_max, 1e-9);
  constexpr double kRow = 24, kTop = 4;
  const double height = kTop + slots * kRow + 20;
  std::string svg = "<svg class=\"timeline\" width=\"" + number_text(kWidth) + "\" height=\"" +
                    number_text(height) + "\" role=\"img\" aria-label=\"files across the slots\">";
  for (int slot = 0; slot < slots; ++slot)
    svg += label(kLeft - 4, kTop + slot * kRow + 16, "slot " + std::to_string(slot));
  write(svg);
  timeline([&](const nlohmann::json& file) {
    // An image run in the images' graph has no bar: the graph's bar, drawn after it over the
    // same slot and time, would cover it.
    if (file.value("item", false)) return;
    const double start = file.value("start_s", 0.0);
    const double end = std::max(start, file.value("end_s", 0.0));
    const auto name = file.value("file", std::string());
    const auto status = file.value("status", std::string());
    const double x = kLeft + kPlot * start / end_max;
    const double width = std::max(1.0, kPlot * (end - start) / end_max);
    std::string bar =
        "<rect x=\"" + number_text(x) + "\" y=\"" +
        number_text(kTop + file.value("slot", 0) * kRow + 2) + "\" width=\"" + number_text(width) +
        "\" height=\"" + number_text(kRow - 4) + "\" fill=\"" + colour_of(status) +
        "\" stroke=\"#fff\"><title>" +
        html_text(name + ": " + status + ", " + std::to_string(file.value("frames", 0)) +
                  " frames, " + number_text(start) + " s to " + number_text(end) + " s") +
        "</title></rect>";
    // The name on the bar when it fits (about 6.5 px a character), so stragglers show by name.
    if (width > 6.5 * static_cast<double>(name.size()) + 8) {
      bar += "<text class=\"bar\" x=\"" + number_text(x + 4) + "\" y=\"" +
             number_text(kTop + file.value("slot", 0) * kRow + 16) + "\">" + html_text(name) +
             "</text>";
    }
    write(bar);
  });
  write(label(kLeft, height - 4, "0 s", "start") +
        label(kWidth - 10, height - 4, number_text(end_max) + " s") + "</svg>\n");
}

}  // namespace framepipe
