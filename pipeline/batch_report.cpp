#include <algorithm>
#include <cctype>
#include <cstdio>

#include "pipeline/analysis.h"
#include "pipeline/batch.h"
#include "pipeline/batch_analysis.h"
#include "pipeline/batch_charts.h"
#include "pipeline/inputs.h"
#include "pipeline/json_text.h"
#include "pipeline/report.h"
#include "pipeline/safe_text.h"
#include "pipeline/streamed_file.h"

namespace framepipe {

namespace {

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

// An optional section of batch.json (`ranks`, `shards`, `stages`) as a table of `columns`.
std::string section_html(const nlohmann::json& batch, const std::string& key,
                         const std::string& title, const std::vector<std::string>& columns) {
  if (!batch.contains(key) || !batch[key].is_array()) return "";
  std::string html = "<h2>" + html_text(title) + "</h2>\n<table class=\"" + key + "\"><tr>";
  // Keys as headers a table can wrap: "waiting_for_thread_s" -> "waiting for thread s".
  for (auto header : columns) {
    std::replace(header.begin(), header.end(), '_', ' ');
    html += "<th>" + html_text(header) + "</th>";
  }
  html += "</tr>\n";
  for (const auto& row : batch[key]) {
    html += "<tr>";
    for (const auto& column : columns) {
      const auto& value = row.contains(column) ? row[column] : nlohmann::json();
      std::string cell;
      if (value.is_number_float()) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", value.get<double>());
        cell = text;
      } else if (value.is_string()) {
        cell = html_text(value.get<std::string>());
      } else if (!value.is_null()) {
        cell = html_text(value.dump());
      }
      html += "<td>" + cell + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

// The batch's bottleneck, the model's conclusions and the advice, as the single run's page says
// them.
std::string verdict_html(const nlohmann::json& batch) {
  std::string html;
  const auto bottleneck = batch.value("bottleneck", nlohmann::json());
  if (bottleneck.is_string()) {
    const auto limited_by = batch.value("limited_by", nlohmann::json());
    std::string word =
        bottleneck_word(limited_by.is_string() ? limited_by.get<std::string>() : std::string());
    word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
    html += "<p class=\"verdict\">" + word + ": <b>" + html_text(bottleneck.get<std::string>()) +
            "</b>";
    if (limited_by.is_string())
      html += " &middot; limited by " + html_text(limited_by.get<std::string>());
    html += "</p>\n";
  }
  const auto conclusions = batch.value("conclusions", nlohmann::json::array());
  if (!conclusions.empty()) {
    html += "<h2>Conclusions</h2>\n<ul class=\"conclusions\">";
    for (const auto& conclusion : conclusions)
      if (conclusion.is_string())
        html += "<li>" + html_text(conclusion.get<std::string>()) + "</li>";
    html += "</ul>\n";
  }
  const auto advice = batch.value("advice", nlohmann::json::array());
  if (!advice.empty()) {
    html += "<h2>Advice</h2>\n<ul class=\"advice\">";
    for (const auto& item : advice) {
      html += "<li>set <code>" + html_text(item.value("key", "")) + ": " +
              html_text(item.value("to", "")) + "</code> (now " +
              html_text(item.value("from", "")) + ") &mdash; " +
              html_text(item.value("reason", "")) + "</li>";
    }
    html += "</ul>\n";
  }
  return html;
}

// The images' one graph: its figures and a link to its report.
std::string images_run_html(const nlohmann::json& batch) {
  if (!batch.contains("images_run") || !batch["images_run"].is_object()) return "";
  const auto& run = batch["images_run"];
  std::string name = "their report";
  if (run["report"].is_string()) {
    name = "<a href=\"" + html_text(url_of(run["report"].get<std::string>() + "/report.html")) +
           "\">their report</a>";
  }
  char figures[120];
  std::snprintf(figures, sizeof figures, "%lld images in %.2f s", run["frames"].get<long long>(),
                run["wall_s"].get<double>());
  return "<h2>Images</h2>\n<p>The images went through one graph, built once: " +
         std::string(figures) + " (" + html_text(run["status"].get<std::string>()) + "); " + name +
         " has the stages' figures over all of them." +
         (run["error"].is_string() ? " " + html_text(run["error"].get<std::string>()) : "") +
         "</p>\n";
}

}  // namespace

std::filesystem::path batch_report_root(const Config& config) {
  return config.report_dir.empty() ? std::filesystem::path(config.output_dir) / "report"
                                   : std::filesystem::path(config.report_dir);
}

nlohmann::json file_outcome_json(const FileOutcome& file,
                                 const std::filesystem::path& report_root) {
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& output : file.outputs) outputs.push_back(output);
  nlohmann::json entry = {
      {"input", file.input.path},
      {"relative", file.input.relative},
      {"status", file.status},
      {"error", file.error.empty() ? nlohmann::json() : nlohmann::json(file.error)},
      {"frames", file.frames},
      {"expected_frames", file.expected_frames},
      {"damaged_packets", file.damaged_packets},
      {"wall_s", file.wall_s},
      {"fps", file.wall_s > 0 ? static_cast<double>(file.frames) / file.wall_s : 0.0},
      {"slot", file.slot},
      {"start_s", file.start_s},
      {"end_s", file.end_s},
      {"outputs", outputs},
      {"report", nlohmann::json()}};
  if (!file.report_dir.empty()) {
    entry["report"] = file.report_dir.lexically_relative(report_root).generic_string();
  }
  return entry;
}

FileOutcome file_outcome_from_json(const nlohmann::json& entry,
                                   const std::filesystem::path& report_root) {
  FileOutcome file;
  // Names come back as the bytes they were (json_text.h).
  file.input.path = unescape_invalid_utf8(entry.at("input").get<std::string>());
  file.input.relative = unescape_invalid_utf8(entry.at("relative").get<std::string>());
  file.status = entry.at("status").get<std::string>();
  if (entry.at("error").is_string()) file.error = entry["error"].get<std::string>();
  file.frames = entry.at("frames").get<std::int64_t>();
  file.expected_frames = entry.at("expected_frames").get<std::int64_t>();
  file.damaged_packets = entry.at("damaged_packets").get<std::int64_t>();
  file.wall_s = entry.at("wall_s").get<double>();
  // Absent from batch.json files written before the timeline was.
  file.slot = entry.value("slot", 0);
  file.start_s = entry.value("start_s", 0.0);
  file.end_s = entry.value("end_s", 0.0);
  for (const auto& output : entry.at("outputs"))
    file.outputs.emplace_back(unescape_invalid_utf8(output.get<std::string>()));
  if (entry.at("report").is_string())
    file.report_dir = report_root / unescape_invalid_utf8(entry["report"].get<std::string>());
  return file;
}

namespace {

// Each file that ran (not skipped), without its report, and the file's outcome. The images'
// one graph counts as one file, the last: its report holds the stages' figures over all of
// them (their own entries have no report), and each image that ran in it is marked an item.
// One config runs every image of a batch the same way (runs_as_item), so when the images had
// a graph, every image ran in it.
void for_each_run(const BatchResult& result,
                  const std::function<void(BatchFileRun, const FileOutcome&)>& visit) {
  const auto ran = [&](const FileOutcome& file, bool item) {
    if (file.status == "skipped") return;
    BatchFileRun run{file.input.relative, file.status, file.slot, file.start_s,
                     file.end_s,          file.frames, nullptr};
    run.item = item;
    visit(std::move(run), file);
  };
  for (const auto& file : result.files)
    ran(file, result.images_run && is_image_name(file.input.path));
  if (result.images_run) ran(*result.images_run, false);
}

// The files that ran, each with its report.json when it has a readable one.
std::vector<BatchFileRun> files_that_ran(const BatchResult& result) {
  std::vector<BatchFileRun> runs;
  for_each_run(result, [&](BatchFileRun run, const FileOutcome& file) {
    if (!file.report_dir.empty()) {
      try {
        run.report = read_report(file.report_dir);
      } catch (const std::exception&) {
        // No report for this file: the batch's figures leave it out.
      }
    }
    runs.push_back(std::move(run));
  });
  return runs;
}

}  // namespace

BatchReport batch_report(const Config& config, const BatchResult& result) {
  const auto report_root = batch_report_root(config);
  const auto frames = result.frames();
  const BatchShape shape{config.files_in_parallel,
                         config.threads,
                         config.max_frames_in_flight,
                         config.isolation == Isolation::process,
                         result.wall_s,
                         frames};
  auto batch = nlohmann::json{
      {"schema", "framepipe-batch/1"},
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
      {"config", nlohmann::json::parse(dump_json(config_json(config)))},
      {"images_run",
       result.images_run ? file_outcome_json(*result.images_run, report_root) : nlohmann::json()}};
  batch.update(analyze_batch(shape, files_that_ran(result), false));
  // Credentials in URLs (an input, an endpoint in the config) stay out of every report; the
  // per-file entries are redacted one by one as they are written.
  batch = redact_json_credentials(batch);
  batch["files"] = nullptr;
  batch["timeline"] = nullptr;
  return BatchReport{std::move(batch), &result, report_root};
}

namespace {

// A batch report's parts: `head` is the whole tree when `result` is null, else the tree less
// the per-file arrays, which come from `result` entry by entry.
struct ReportParts {
  const nlohmann::json& head;
  const BatchResult* result;
  const std::filesystem::path& report_root;
};

ReportParts parts_of(const BatchReport& report) {
  return {report.head, report.result, report.report_root};
}

void for_each_file_entry(const ReportParts& report,
                         const std::function<void(const nlohmann::json&)>& visit) {
  if (!report.result) {
    for (const auto& file : report.head["files"]) visit(file);
    return;
  }
  for (const auto& file : report.result->files)
    visit(redact_json_credentials(file_outcome_json(file, report.report_root)));
}

void for_each_timeline_row(const ReportParts& report,
                           const std::function<void(const nlohmann::json&)>& visit) {
  if (!report.result) {
    if (report.head.contains("timeline") && report.head["timeline"].is_array())
      for (const auto& row : report.head["timeline"]) visit(row);
    return;
  }
  for_each_run(*report.result, [&](const BatchFileRun& run, const FileOutcome&) {
    visit(redact_json_credentials(timeline_row(run)));
  });
}

// Whether the timeline has a row: without making them.
bool any_timeline_row(const ReportParts& report) {
  if (!report.result) {
    return report.head.contains("timeline") && report.head["timeline"].is_array() &&
           !report.head["timeline"].empty();
  }
  bool any = false;
  for_each_run(*report.result, [&](const BatchFileRun&, const FileOutcome&) { any = true; });
  return any;
}

}  // namespace

nlohmann::json batch_report_tree(const BatchReport& report) {
  if (!report.result) return report.head;
  auto batch = report.head;
  nlohmann::json files = nlohmann::json::array();
  for_each_file_entry(parts_of(report), [&](const nlohmann::json& file) { files.push_back(file); });
  nlohmann::json timeline = nlohmann::json::array();
  for_each_timeline_row(parts_of(report),
                        [&](const nlohmann::json& row) { timeline.push_back(row); });
  batch["files"] = std::move(files);
  batch["timeline"] = std::move(timeline);
  return batch;
}

nlohmann::json batch_report_json(const Config& config, const BatchResult& result) {
  return batch_report_tree(batch_report(config, result));
}

namespace {

// stream_json's array at one level down in batch.json, from `rows`.
void stream_rows(const JsonRows& rows, const TextSink& write) {
  bool any = false;
  rows([&](const nlohmann::json& row) {
    write(any ? ",\n    " : "[\n    ");
    any = true;
    stream_json(row, 2, write, 2);
  });
  write(any ? "\n  ]" : "[]");
}

}  // namespace

void stream_batch_json(const BatchReport& report, const TextSink& write) {
  if (!report.result) {
    stream_json(report.head, 2, write);
    return;
  }
  // stream_json(batch_report_tree(report), 2, write), the per-file arrays made one entry at a
  // time.
  write("{");
  bool first = true;
  for (const auto& [key, item] : report.head.items()) {
    if (!first) write(",");
    first = false;
    write("\n  ");
    write(dump_json(nlohmann::json(key)));
    write(": ");
    if (key == "files") {
      stream_rows([&](const auto& visit) { for_each_file_entry(parts_of(report), visit); }, write);
    } else if (key == "timeline") {
      stream_rows([&](const auto& visit) { for_each_timeline_row(parts_of(report), visit); },
                  write);
    } else {
      stream_json(item, 2, write, 1);
    }
  }
  write("\n}");
}

void write_batch_json(const std::filesystem::path& path, const BatchReport& report) {
  write_streamed_file_atomically(path, [&](const TextSink& write) {
    stream_batch_json(report, write);
    write("\n");
  });
}

namespace {

void batch_html(const ReportParts& report, const TextSink& write) {
  const auto& batch = report.head;
  const auto& totals = batch["totals"];
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
  write(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>framepipe "
      "batch: " +
      html_text(batch["pipeline"].get<std::string>()) +
      "</title><style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse}td,th{padding:4px 8px;border-bottom:1px solid #ddd;"
      "text-align:left}tr.failed td,tr.cancelled td{background:#fde8e8}tr.damaged "
      "td{background:#fff4de}tr.skipped td{color:#777}svg text{font:11px "
      "system-ui,sans-serif;fill:#555}svg text.bar{fill:#fff}.verdict{font-size:16px}"
      "</style></head><body>\n<h1>Batch: " +
      html_text(batch["pipeline"].get<std::string>()) + "</h1>\n<p>" + summary + "</p>\n" +
      verdict_html(batch) +
      section_html(
          batch, "stages", "Stages, summed over the files (pipeline order)",
          {"name", "type", "class", "files", "items", "busy_s", "cpu_s", "runnable_s", "sleeping_s",
           "starved_s", "waiting_for_thread_s", "blocked_s", "utilization"}) +
      (batch.contains("series")
           ? "<h2>Throughput over time</h2>\n" + throughput_svg(batch["series"])
           : std::string()));
  const auto* heading =
      "<h2>Files across the parallel slots</h2>\n<p>One bar per file, from its start to its end "
      "(hover for its name); a long bar alone at the end is a straggler.</p>\n";
  if (any_timeline_row(report)) {
    write(heading);
    timeline_svg([&](const auto& visit) { for_each_timeline_row(report, visit); },
                 totals["wall_s"].get<double>(), write);
  }
  write(images_run_html(batch) +
        "<h2>Files</h2>\n<table><tr><th>file</th><th>status</th><th>frames</th><th>expected</th>"
        "<th>damaged packets</th><th>wall s</th><th>error</th></tr>\n");
  for_each_file_entry(report, [&](const nlohmann::json& file) {
    const auto status = html_text(file["status"].get<std::string>());
    const auto status_text = file.value("from_earlier_run", false)
                                 ? status + " (done by an earlier run: " +
                                       html_text(file.value("earlier_status", std::string("ok"))) +
                                       ")"
                                 : status;
    std::string name = html_text(file["relative"].get<std::string>());
    if (file["report"].is_string()) {
      name = "<a href=\"" + html_text(url_of(file["report"].get<std::string>() + "/report.html")) +
             "\">" + name + "</a>";
    }
    char figures[160];
    std::snprintf(figures, sizeof figures, "<td>%lld</td><td>%lld</td><td>%lld</td><td>%.2f</td>",
                  file["frames"].get<long long>(), file["expected_frames"].get<long long>(),
                  file["damaged_packets"].get<long long>(), file["wall_s"].get<double>());
    write("<tr class=\"" + status + "\"><td>" + name + "</td><td>" + status_text + "</td>" +
          figures + "<td>" +
          (file["error"].is_string() ? html_text(file["error"].get<std::string>()) : "") +
          "</td></tr>\n");
  });
  write(
      "</table>\n" +
      section_html(
          batch, "ranks", "MPI ranks",
          {"rank", "host", "files", "frames", "failed", "busy_s", "idle_s", "wall_s", "lost"}) +
      section_html(batch, "shards", "Shards",
                   {"shard", "report", "files", "frames", "failed", "wall_s", "fps"}) +
      (batch.contains("slowest_shard") && batch["slowest_shard"].is_string()
           ? "<p>Slowest shard: " + html_text(batch["slowest_shard"].get<std::string>()) + "</p>\n"
           : std::string()));
  write("</body></html>\n");
}

}  // namespace

void batch_report_html(const BatchReport& report, const TextSink& write) {
  batch_html(parts_of(report), write);
}

std::string batch_report_html(const nlohmann::json& batch) {
  std::string html;
  const std::filesystem::path no_root;
  batch_html({batch, nullptr, no_root}, [&](std::string_view text) { html += text; });
  return html;
}

void write_batch_html(const std::filesystem::path& path, const BatchReport& report) {
  write_streamed_file_atomically(path,
                                 [&](const TextSink& write) { batch_report_html(report, write); });
}

}  // namespace framepipe
