// batch.json and batch.html written from the BatchResult a file at a time (pipeline/batch.h's
// BatchReport) against the tree writers they replaced: the same bytes, for batches with every
// kind of file entry and for an empty one, and the per-file entries handed over one at a time.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "pipeline/batch.h"
#include "pipeline/batch_analysis.h"
#include "pipeline/batch_charts.h"
#include "pipeline/json_text.h"
#include "pipeline/report.h"
#include "pipeline/safe_text.h"
#include "pipeline/streamed_file.h"

namespace framepipe::testing {
namespace batch_stream_test {

namespace fs = std::filesystem;

// batch_report.cpp's tree writers before batch.json and batch.html were streamed, kept here
// verbatim as the reference (batch.json was written as write_json_file(path, tree, 2)).
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
    const bool stage_limits = limited_by.is_string() && limited_by.get<std::string>() == "stage";
    html += std::string("<p class=\"verdict\">") + (stage_limits ? "Bottleneck" : "Busiest stage") +
            ": <b>" + html_text(bottleneck.get<std::string>()) + "</b>";
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

// The files that ran (not skipped), each with its report.json when it has a readable one.
std::vector<BatchFileRun> files_that_ran(const Config& config, const BatchResult& result) {
  std::vector<BatchFileRun> runs;
  // The images' one graph counts as one file: its report holds the stages' figures over all
  // of them (their own entries have no report).
  std::vector<const FileOutcome*> ran;
  for (const auto& file : result.files) ran.push_back(&file);
  if (result.images_run) ran.push_back(&*result.images_run);
  for (const auto* entry : ran) {
    const auto& file = *entry;
    if (file.status == "skipped") continue;
    BatchFileRun run{file.input.relative, file.status, file.slot, file.start_s,
                     file.end_s,          file.frames, nullptr};
    run.item =
        result.images_run && entry != &*result.images_run && runs_as_item(config, file.input);
    if (!file.report_dir.empty()) {
      try {
        run.report = read_report(file.report_dir);
      } catch (const std::exception&) {
        // No report for this file: the batch's figures leave it out.
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

nlohmann::json batch_json_before_streaming(const Config& config, const BatchResult& result) {
  // Credentials in URLs (an input, an endpoint in the config) stay out of every report. The
  // files' entries, one per image of a folder of thousands, are redacted one by one and moved
  // into place: no second copy of them all.
  nlohmann::json files = nlohmann::json::array();
  const auto report_root = batch_report_root(config);
  for (const auto& file : result.files) {
    files.push_back(redact_json_credentials(file_outcome_json(file, report_root)));
  }
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
  batch.update(analyze_batch(shape, files_that_ran(config, result)));
  batch = redact_json_credentials(batch);
  batch["files"] = std::move(files);
  return batch;
}

std::string batch_html_before_streaming(const nlohmann::json& batch) {
  const auto& totals = batch["totals"];
  std::string rows;
  for (const auto& file : batch["files"]) {
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
    rows += "<tr class=\"" + status + "\"><td>" + name + "</td><td>" + status_text + "</td>" +
            figures + "<td>" +
            (file["error"].is_string() ? html_text(file["error"].get<std::string>()) : "") +
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
             {"name", "type", "class", "files", "items", "busy_s", "cpu_s", "runnable_s",
              "sleeping_s", "starved_s", "waiting_for_thread_s", "blocked_s", "utilization"}) +
         (batch.contains("series")
              ? "<h2>Throughput over time</h2>\n" + throughput_svg(batch["series"])
              : std::string()) +
         (batch.contains("timeline") && !batch["timeline"].empty()
              ? "<h2>Files across the parallel slots</h2>\n<p>One bar per file, from its start "
                "to its end (hover for its name); a long bar alone at the end is a "
                "straggler.</p>\n" +
                    timeline_svg(batch["timeline"], totals["wall_s"].get<double>())
              : std::string()) +
         images_run_html(batch) +
         "<h2>Files</h2>\n<table><tr><th>file</th><th>status</th><th>frames</th><th>expected</th>"
         "<th>damaged packets</th><th>wall s</th><th>error</th></tr>\n" +
         rows + "</table>\n" +
         section_html(
             batch, "ranks", "MPI ranks",
             {"rank", "host", "files", "frames", "failed", "busy_s", "idle_s", "wall_s", "lost"}) +
         section_html(batch, "shards", "Shards",
                      {"shard", "report", "files", "frames", "failed", "wall_s", "fps"}) +
         (batch.contains("slowest_shard") && batch["slowest_shard"].is_string()
              ? "<p>Slowest shard: " + html_text(batch["slowest_shard"].get<std::string>()) +
                    "</p>\n"
              : std::string()) +
         "</body></html>\n";
}

std::string streamed_json(const BatchReport& report) {
  std::string text;
  stream_batch_json(report, [&](std::string_view piece) { text += piece; });
  return text;
}

std::string streamed_html(const BatchReport& report) {
  std::string text;
  batch_report_html(report, [&](std::string_view piece) { text += piece; });
  return text;
}

std::string tree_text(const nlohmann::json& tree) {
  std::string text;
  stream_json(tree, 2, [&](std::string_view piece) { text += piece; });
  return text;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

FileOutcome outcome(const std::string& relative, const std::string& status, int slot,
                    double start_s) {
  FileOutcome file;
  file.input.path = fs::path("/in") / relative;
  file.input.relative = relative;
  file.status = status;
  file.frames = 1;
  file.expected_frames = 1;
  file.wall_s = 0.25;
  file.slot = slot;
  file.start_s = start_s;
  file.end_s = start_s + 0.25;
  file.outputs.emplace_back(fs::path("/out") / (relative + ".jpg"));
  return file;
}

struct Batch {
  Config config;
  BatchResult result;
};

Batch every_kind_of_file() {
  Batch batch;
  batch.config.name = "images \"quoted\" <b>";
  batch.config.input_path = "https://user:secret@example.com/folder";
  batch.config.output_dir = "/out";
  batch.config.files_in_parallel = 2;
  auto& result = batch.result;
  result.files.push_back(outcome("a.jpg", "ok", 0, 0.0));
  auto failed = outcome("sub dir/b\xff.jpg", "failed", 1, 0.1);
  failed.error = "cannot decode 'b': <bad> & \"worse\"";
  failed.outputs.clear();
  result.files.push_back(failed);
  auto damaged = outcome("c.jpg", "damaged", 0, 0.3);
  damaged.damaged_packets = 2;
  damaged.report_dir = "/out/report/c.jpg";
  result.files.push_back(damaged);
  result.files.push_back(outcome("d.jpg", "skipped", 0, 0));
  auto remote = outcome("e.jpg", "cancelled", 1, 0.5);
  remote.input.path = "rtsp://admin:hunter2@camera/e.jpg";
  remote.error = "stopped";
  result.files.push_back(remote);
  for (int i = 0; i < 40; ++i)
    result.files.push_back(outcome("many/" + std::to_string(i) + ".jpg", "ok", i % 2, 0.6 + i));
  result.wall_s = 41.5;
  result.flight_capacity = 16;
  result.budget_t = {0.0, 1.0, 2.0};
  result.budget_in_use = {1, 3, 2};
  FileOutcome images = outcome("images", "ok", 0, 0);
  images.frames = 44;
  images.report_dir = "/out/report/images";
  images.outputs.clear();
  result.images_run = images;
  return batch;
}

TEST(BatchReportStream, JsonIsTheTreeWritersBytes) {
  const auto batch = every_kind_of_file();
  const auto reference = batch_json_before_streaming(batch.config, batch.result);
  const auto report = batch_report(batch.config, batch.result);
  EXPECT_EQ(streamed_json(report), tree_text(reference));
  EXPECT_EQ(streamed_json(report), dump_json(reference, 2));
  EXPECT_EQ(batch_report_tree(report), reference);
  EXPECT_EQ(batch_report_json(batch.config, batch.result), reference);
}

TEST(BatchReportStream, HtmlIsTheTreeWritersBytes) {
  const auto batch = every_kind_of_file();
  const auto reference = batch_json_before_streaming(batch.config, batch.result);
  const auto report = batch_report(batch.config, batch.result);
  EXPECT_EQ(streamed_html(report), batch_html_before_streaming(reference));
  EXPECT_EQ(batch_report_html(reference), batch_html_before_streaming(reference));
}

TEST(BatchReportStream, AnEmptyBatchIsTheTreeWritersBytes) {
  Batch batch;
  batch.config.name = "empty";
  batch.config.output_dir = "/out";
  const auto reference = batch_json_before_streaming(batch.config, batch.result);
  const auto report = batch_report(batch.config, batch.result);
  EXPECT_EQ(streamed_json(report), tree_text(reference));
  EXPECT_EQ(streamed_html(report), batch_html_before_streaming(reference));
}

TEST(BatchReportStream, ExtraMembersOfTheHeadAreWrittenLikeTheTreesOnes) {
  // MPI and shards add members (`ranks`, `mpi`, `shard`) to the head after it is made.
  const auto batch = every_kind_of_file();
  auto reference = batch_json_before_streaming(batch.config, batch.result);
  auto report = batch_report(batch.config, batch.result);
  const nlohmann::json extra = {
      {"ranks", {{{"rank", 1}, {"host", "h"}, {"files", 3}, {"busy_s", 1.5}}}},
      {"shard", {{"index", 0}, {"count", 2}, {"name", "shard-0-of-2"}}}};
  reference.update(extra);
  report.head.update(extra);
  EXPECT_EQ(streamed_json(report), tree_text(reference));
  EXPECT_EQ(streamed_html(report), batch_html_before_streaming(reference));
}

TEST(BatchReportStream, FilesAreTheTreeWritersTextAndALineBreak) {
  const auto batch = every_kind_of_file();
  const auto reference = batch_json_before_streaming(batch.config, batch.result);
  const auto report = batch_report(batch.config, batch.result);
  const auto dir = fs::temp_directory_path() /
                   ("framepipe-batch-stream-" +
                    std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::create_directories(dir);
  write_batch_json(dir / "batch.json", report);
  write_batch_html(dir / "batch.html", report);
  EXPECT_EQ(read_all(dir / "batch.json"), tree_text(reference) + "\n");
  EXPECT_EQ(read_all(dir / "batch.html"), batch_html_before_streaming(reference));
  fs::remove_all(dir);
}

TEST(BatchReportStream, HeadHoldsNoPerFileEntries) {
  const auto batch = every_kind_of_file();
  const auto report = batch_report(batch.config, batch.result);
  EXPECT_TRUE(report.head["files"].is_null());
  EXPECT_TRUE(report.head["timeline"].is_null());
  // Each entry is handed over on its own: many small pieces, none holding two files' names.
  std::size_t pieces = 0;
  stream_batch_json(report, [&](std::string_view piece) {
    ++pieces;
    EXPECT_FALSE(piece.find("a.jpg") != std::string_view::npos &&
                 piece.find("c.jpg") != std::string_view::npos);
  });
  EXPECT_GT(pieces, batch.result.files.size());
}

}  // namespace batch_stream_test
}  // namespace framepipe::testing
