#include <cstdio>

#include "pipeline/batch.h"

namespace framepipe {

namespace {

std::string html_escape(const std::string& text) {
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

// A path as a relative URL: each segment percent-encoded, so spaces and non-ASCII names work.
std::string url_of(const std::filesystem::path& path) {
  std::string out;
  for (unsigned char c : path.generic_string()) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

nlohmann::json batch_report_json(const Config& config, const BatchResult& result) {
  nlohmann::json files = nlohmann::json::array();
  const auto report_root = config.report_dir.empty()
                               ? std::filesystem::path(config.output_dir) / "report"
                               : std::filesystem::path(config.report_dir);
  for (const auto& file : result.files) {
    nlohmann::json outputs = nlohmann::json::array();
    for (const auto& output : file.outputs) outputs.push_back(output.string());
    nlohmann::json entry = {
        {"input", file.input.path.string()},
        {"relative", file.input.relative.generic_string()},
        {"status", file.status},
        {"error", file.error.empty() ? nlohmann::json() : nlohmann::json(file.error)},
        {"frames", file.frames},
        {"expected_frames", file.expected_frames},
        {"damaged_packets", file.damaged_packets},
        {"wall_s", file.wall_s},
        {"fps", file.wall_s > 0 ? static_cast<double>(file.frames) / file.wall_s : 0.0},
        {"outputs", outputs},
        {"report", nlohmann::json()}};
    if (!file.report_dir.empty()) {
      entry["report"] = file.report_dir.lexically_relative(report_root).generic_string();
    }
    files.push_back(entry);
  }
  const auto frames = result.frames();
  return {{"schema", "framepipe-batch/1"},
          {"pipeline", config.name},
          {"input", config.input_path},
          {"files_in_parallel", config.files_in_parallel},
          {"cancelled", result.cancelled},
          {"totals",
           {{"files", result.files.size()},
            {"ok", result.count("ok")},
            {"damaged", result.count("damaged")},
            {"failed", result.count("failed")},
            {"skipped", result.count("skipped")},
            {"cancelled", result.count("cancelled")},
            {"frames", frames},
            {"wall_s", result.wall_s},
            {"fps", result.wall_s > 0 ? static_cast<double>(frames) / result.wall_s : 0.0}}},
          {"budget",
           {{"capacity", result.flight_capacity},
            {"t", result.budget_t},
            {"in_use", result.budget_in_use}}},
          {"files", files}};
}

std::string batch_report_html(const nlohmann::json& batch) {
  const auto& totals = batch["totals"];
  std::string rows;
  for (const auto& file : batch["files"]) {
    const auto status = file["status"].get<std::string>();
    std::string name = html_escape(file["relative"].get<std::string>());
    if (file["report"].is_string()) {
      name = "<a href=\"" +
             html_escape(url_of(file["report"].get<std::string>() + "/report.html")) + "\">" +
             name + "</a>";
    }
    char figures[160];
    std::snprintf(figures, sizeof figures, "<td>%lld</td><td>%lld</td><td>%lld</td><td>%.2f</td>",
                  file["frames"].get<long long>(), file["expected_frames"].get<long long>(),
                  file["damaged_packets"].get<long long>(), file["wall_s"].get<double>());
    rows += "<tr class=\"" + status + "\"><td>" + name + "</td><td>" + status + "</td>" + figures +
            "<td>" +
            (file["error"].is_string() ? html_escape(file["error"].get<std::string>()) : "") +
            "</td></tr>\n";
  }
  int peak = 0;
  for (const auto& used : batch["budget"]["in_use"]) peak = std::max(peak, used.get<int>());
  char summary[400];
  std::snprintf(summary, sizeof summary,
                "%d files: %d ok, %d damaged, %d failed, %d skipped, %d cancelled &middot; %lld "
                "frames in %.1f s (%.1f fps) &middot; %d at once &middot; frames in flight peaked "
                "at %d of %d",
                totals["files"].get<int>(), totals["ok"].get<int>(), totals["damaged"].get<int>(),
                totals["failed"].get<int>(), totals["skipped"].get<int>(),
                totals["cancelled"].get<int>(), totals["frames"].get<long long>(),
                totals["wall_s"].get<double>(), totals["fps"].get<double>(),
                batch["files_in_parallel"].get<int>(), peak,
                batch["budget"]["capacity"].get<int>());
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>framepipe "
         "batch: " +
         html_escape(batch["pipeline"].get<std::string>()) +
         "</title><style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
         "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;"
         "text-align:left}tr.failed td,tr.cancelled td{background:#fde8e8}tr.damaged "
         "td{background:#fff4de}tr.skipped td{color:#777}</style></head><body>\n<h1>Batch: " +
         html_escape(batch["pipeline"].get<std::string>()) + "</h1>\n<p>" + summary +
         "</p>\n<table><tr><th>file</th><th>status</th><th>frames</th><th>expected</th>"
         "<th>damaged packets</th><th>wall s</th><th>error</th></tr>\n" +
         rows + "</table>\n</body></html>\n";
}

}  // namespace framepipe
