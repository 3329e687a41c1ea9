// report.html: the embedded JSON cannot break out of its <script>, the page needs no network, and
// headless Chromium draws every section and chart without a script error, for a realistic run, a
// failed run with no frames, and a run whose names and errors are made of markup.
#include "pipeline/report_html.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "pipeline/json_text.h"
#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

using nlohmann::json;

json latency(double p50, double p95, double max) {
  return {{"p50", p50}, {"p95", p95}, {"max", max}};
}

json phase(const std::string& name, double wall, double cpu, const std::string& cls) {
  return {
      {"name", name},      {"wall_s", wall},           {"cpu_s", cpu}, {"off_cpu_s", wall - cpu},
      {"runnable_s", 0.0}, {"sleeping_s", wall - cpu}, {"class", cls}};
}

json stage(const std::string& name, const std::string& type, const std::string& kind,
           const std::string& resource, const std::string& ordering, const std::string& concurrency,
           int workers, const std::string& cls, double cpu, double off_cpu, double starved,
           double blocked, json phases) {
  return {{"name", name},
          {"type", type},
          {"kind", kind},
          {"resource", resource},
          {"ordering", ordering},
          {"concurrency", concurrency},
          {"workers", workers},
          {"class", cls},
          {"items", 1200},
          {"busy_s", cpu + off_cpu},
          {"cpu_s", cpu},
          {"off_cpu_s", off_cpu},
          {"runnable_s", off_cpu / 3},
          {"sleeping_s", off_cpu * 2 / 3},
          // Only filters wait for a oneTBB thread; half their idle time here.
          {"starved_s", kind == "transform" ? starved / 2 : starved},
          {"waiting_for_thread_s", kind == "transform" ? starved / 2 : 0.0},
          {"blocked_s", blocked},
          {"utilization", (cpu + off_cpu) / (10.0 * workers)},
          {"latency_ms", latency(2.1, 4.8, 11.5)},
          {"phases", std::move(phases)}};
}

// A 10 s run of the default edges pipeline on 4 cores, following docs/report.schema.json.
json realistic_report() {
  json series = {{"interval_s", 0.25},
                 {"t", json::array()},
                 {"fps", json::array()},
                 {"cpu_cores", json::array()},
                 {"frames_in_flight", json::array()},
                 {"queues", json::array()}};
  const std::vector<std::pair<std::string, std::string>> edges = {
      {"decode", "blur"}, {"blur", "edges"}, {"edges", "video"}};
  std::vector<json> depths(edges.size(), json::array());
  for (int i = 0; i < 40; ++i) {
    const double wave = std::sin(i * 0.7);
    series["t"].push_back(0.25 * (i + 1));
    series["fps"].push_back(i < 3 ? 40.0 * i : 120.0 + 8.0 * wave);
    series["cpu_cores"].push_back(i < 3 ? 1.2 * i : 3.5 + 0.3 * wave);
    series["frames_in_flight"].push_back(i < 3 ? 5 * i : 14 + i % 3);
    depths[0].push_back(i % 4);
    depths[1].push_back(6 + (i % 5));
    depths[2].push_back(1 + i % 2);
  }
  for (std::size_t e = 0; e < edges.size(); ++e) {
    series["queues"].push_back(
        {{"from", edges[e].first}, {"to", edges[e].second}, {"depth", depths[e]}});
  }
  return {
      {"schema", "framepipe-report/1"},
      {"framepipe_version", "0.3.0"},
      {"pipeline", "edges"},
      {"input", "samples/media/sample.mp4"},
      {"ok", true},
      {"error", nullptr},
      {"wall_s", 10.02},
      {"frames", 1200},
      {"fps", 119.8},
      {"cores", 4},
      {"threads", 4},
      {"max_frames_in_flight", 16},
      {"peak_frames_in_flight", 16},
      {"cpu",
       {{"process_cpu_s", 34.6},
        {"utilization", 0.86},
        {"stage_threads_cpu_s", 31.9},
        {"helper_threads_cpu_s", 2.7}}},
      {"stages", json::array({
                     stage("decode", "decode", "source", "io", "serial_in_order", "1", 1, "mixed",
                           3.1, 1.4, 0.2, 5.3,
                           json::array({phase("demux", 0.9, 0.3, "io-bound"),
                                        phase("decode", 3.6, 2.8, "cpu-bound")})),
                     stage("blur", "gaussian_blur", "transform", "cpu", "parallel", "unlimited", 4,
                           "cpu-bound", 11.2, 0.6, 9.1, 19.1, json::array()),
                     stage("edges", "canny", "transform", "cpu", "parallel", "2", 2, "cpu-bound",
                           17.4, 0.9, 0.8, 0.9, json::array()),
                     stage("video", "encode", "sink", "io", "serial_in_order", "1", 1, "mixed", 4.2,
                           2.5, 3.3, 0.0,
                           json::array({phase("convert", 0.8, 0.8, "cpu-bound"),
                                        phase("encode", 4.9, 3.3, "mixed"),
                                        phase("mux", 1.0, 0.1, "io-bound")})),
                 })},
      {"latency_ms", latency(38.0, 61.5, 140.2)},
      {"bottleneck", "edges"},
      {"split",
       {{"cpu_bound_s", 6.3},
        {"io_bound_s", 1.2},
        {"mixed_s", 2.5},
        {"cpu_share", 0.63},
        {"io_share", 0.12},
        {"mixed_share", 0.25}}},
      {"advice", json::array({{{"stage", "edges"},
                               {"key", "stages.edges.concurrency"},
                               {"from", "2"},
                               {"to", "unlimited"},
                               {"reason", "edges is CPU-bound and busy 91% of the run"}}})},
      {"conclusions", json::array({"edges limits throughput: 91% busy on 2 workers",
                                   "blur waits on edges for 19.1 s (blocked)",
                                   "the run used 3.5 of 4 cores on average"})},
      {"config",
       {{"pipeline", {{"name", "edges"}, {"threads", 0}, {"max_frames_in_flight", 16}}},
        {"input", {{"path", "samples/media/sample.mp4"}}}}},
      {"series", series},
  };
}

// A run that failed while opening its input: nothing decoded, no samples.
json failed_report() {
  json report = realistic_report();
  report["ok"] = false;
  report["error"] = "decode: cannot open missing.mp4: No such file or directory";
  report["input"] = "missing.mp4";
  report["wall_s"] = 0.02;
  report["frames"] = 0;
  report["fps"] = 0.0;
  report["peak_frames_in_flight"] = 0;
  report["stages"] = json::array();
  report["bottleneck"] = nullptr;
  report["latency_ms"] = latency(0, 0, 0);
  report["split"] = {{"cpu_bound_s", 0.0}, {"io_bound_s", 0.0}, {"mixed_s", 0.0},
                     {"cpu_share", 0.0},   {"io_share", 0.0},   {"mixed_share", 0.0}};
  report["advice"] = json::array();
  report["conclusions"] = json::array();
  for (const char* key : {"t", "fps", "cpu_cores", "frames_in_flight", "queues"}) {
    report["series"][key] = json::array();
  }
  return report;
}

constexpr const char* kHostile = "<script>alert(1)</script>\"quotes\" & ampersands";
constexpr const char* kHostileInDom =
    "&lt;script&gt;alert(1)&lt;/script&gt;\"quotes\" &amp; ampersands";

// Markup in every kind of string the page shows: names, paths, errors, advice, config values.
json hostile_report() {
  json report = realistic_report();
  const std::string breakout =
      std::string(kHostile) + " </script><!-- <img src=x onerror=alert(2)>";
  report["pipeline"] = kHostile;
  report["input"] = "/media/" + std::string(kHostile) + ".mp4";
  report["ok"] = false;
  report["error"] = breakout;
  report["stages"][2]["name"] = kHostile;
  report["bottleneck"] = kHostile;
  report["stages"][0]["phases"][0]["name"] = kHostile;
  report["series"]["queues"][1]["to"] = kHostile;
  report["advice"][0]["stage"] = kHostile;
  report["advice"][0]["reason"] = breakout;
  report["conclusions"].push_back(breakout);
  report["config"]["input"]["path"] = breakout;
  return report;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The markup of the chart <svg data-chart="name"> (empty when there is none).
std::string chart(const std::string& dom, const std::string& name) {
  const auto start = dom.find("data-chart=\"" + name + "\"");
  if (start == std::string::npos) return "";
  return dom.substr(start, dom.find("</svg>", start) - start);
}

// The text between <script type="application/json" id="report-data"> and its </script>.
std::string embedded_json(const std::string& html) {
  const std::string open = R"(<script type="application/json" id="report-data">)";
  const auto start = html.find(open);
  if (start == std::string::npos) return "";
  const auto from = start + open.size();
  return html.substr(from, html.find("</script>", from) - from);
}

TEST(ReportHtml, EmbeddedJsonCannotCloseItsScriptAndParsesBack) {
  const json report = hostile_report();
  const std::string html = render_html_report(report);
  const std::string data = embedded_json(html);
  EXPECT_EQ(data.find_first_of("<>&"), std::string::npos) << data;
  EXPECT_EQ(json::parse(data), report);
  EXPECT_EQ(html.find(kHostile), std::string::npos);
}

TEST(ReportHtml, NeedsNothingFromTheNetwork) {
  const std::string html = render_html_report(realistic_report());
  for (const char* fetches : {"<link", " src=", " href=", "url(", "@import", "<iframe", "fetch("}) {
    EXPECT_EQ(html.find(fetches), std::string::npos) << fetches;
  }
  // The one URL is the SVG namespace, an identifier that is never fetched.
  EXPECT_EQ(count(html, "http"), 1u);
  EXPECT_EQ(count(html, "http://www.w3.org/2000/svg"), 1u);
}

TEST(ReportHtml, FailedRunWithNoFramesCarriesItsError) {
  const json report = failed_report();
  const std::string html = render_html_report(report);
  const json data = json::parse(embedded_json(html));
  EXPECT_FALSE(data["ok"]);
  EXPECT_EQ(data["error"], report["error"]);
  EXPECT_NE(html.find(R"(id="run-error")"), std::string::npos);
  for (const char* name : {"stage-bars", "split", "timeline", "queues"}) {
    EXPECT_NE(html.find(std::string("data-chart=\"") + name + "\""), std::string::npos) << name;
  }
}

// Escaped reversibly (pipeline/json_text.h): each invalid byte as U+FFFD and its hex digits.
TEST(ReportHtml, FileNamesThatAreNotUtf8DoNotThrow) {
  json report = realistic_report();
  report["input"] = "clip-\xff\xfe.mp4";
  const json data = json::parse(embedded_json(render_html_report(report)));
  EXPECT_EQ(data["input"],
            "clip-\xEF\xBF\xBD"
            "FF\xEF\xBF\xBD"
            "FE.mp4");
  EXPECT_EQ(unescape_invalid_utf8(data["input"].get<std::string>()), "clip-\xff\xfe.mp4");
}

// The page after headless Chromium ran its scripts, and what Chromium logged.
struct Page {
  int exit_code = -1;
  std::string dom;
  std::vector<std::string> console;  // the log's CONSOLE lines: page errors and console output
  std::string log;
};

class ReportHtmlBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_shell("command -v chromium").exit_code, 0)
        << "chromium is not installed: run scripts/install-deps.sh";
    dir_ = make_temp_dir("framepipe-report-html");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Page open(const json& report) {
    const auto html = dir_ / "report.html";
    std::ofstream(html, std::ios::binary) << render_html_report(report);
    const auto dom = dir_ / "dom.html";
    const auto log = dir_ / "chromium.log";
    // A fresh profile and no background services: the page is the only thing that runs. The
    // subshell keeps run_shell's own 2>&1 from sending the log into the DOM file.
    const std::string command =
        "(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic "
        "--no-first-run --disable-background-networking --disable-component-update "
        "--disable-sync --enable-logging=stderr --v=0 --user-data-dir=" +
        shell_quote((dir_ / "profile").string()) + " --dump-dom " +
        shell_quote("file://" + html.string()) + " >" + shell_quote(dom.string()) + " 2>" +
        shell_quote(log.string()) + ")";
    Page page;
    page.exit_code = run_shell(command).exit_code;
    page.dom = read_text(dom);
    page.log = read_text(log);
    std::istringstream lines(page.log);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("CONSOLE") != std::string::npos) page.console.push_back(line);
    }
    return page;
  }

  // Chromium ran, the page's script ran to the end with no error, and nothing was logged.
  static void expect_clean(const Page& page) {
    ASSERT_EQ(page.exit_code, 0) << page.log;
    const auto errors = std::min(page.dom.find("id=\"render-errors\""), page.dom.size());
    EXPECT_NE(page.dom.find("data-errors=\"0\""), std::string::npos)
        << "the page reported script errors (or its script did not run):\n"
        << page.dom.substr(errors, page.dom.find("</section>", errors) - errors);
    for (const auto& line : page.console) {
      EXPECT_EQ(line.find("Uncaught"), std::string::npos) << line;
      EXPECT_EQ(line.find("rror"), std::string::npos) << line;
    }
  }

  std::filesystem::path dir_;
};

TEST_F(ReportHtmlBrowser, DrawsEverySectionAndChartOfARealisticRun) {
  const Page page = open(realistic_report());
  ASSERT_NO_FATAL_FAILURE(expect_clean(page));
  const std::string& dom = page.dom;

  const std::string bars = chart(dom, "stage-bars");
  for (const char* kind :
       {"k-cpu", "k-runnable", "k-sleeping", "k-starved", "k-thread-wait", "k-blocked"}) {
    EXPECT_NE(bars.find(std::string("<rect class=\"") + kind + "\""), std::string::npos) << kind;
  }
  // 4 stages x 6 kinds, less the 0 s ones: video's blocked, decode's and video's thread waits.
  EXPECT_EQ(count(bars, "<rect class=\"k-"), 21u);
  EXPECT_NE(bars.find("class=\"hot\">edges"), std::string::npos) << "bottleneck not marked";

  const std::string split = chart(dom, "split");
  for (const char* kind : {"k-cpu-bound", "k-io-bound", "k-mixed"}) {
    EXPECT_NE(split.find(std::string("<rect class=\"") + kind), std::string::npos) << kind;
  }
  EXPECT_NE(split.find("CPU-bound 63%"), std::string::npos);

  const std::string timeline = chart(dom, "timeline");
  EXPECT_EQ(count(timeline, "<polyline"), 2u);  // fps and CPU cores
  EXPECT_NE(timeline.find("4 cores"), std::string::npos);

  const std::string queues = chart(dom, "queues");
  EXPECT_EQ(count(queues, "<polyline"), 4u);  // 3 edges and frames in flight
  EXPECT_NE(queues.find("blur → edges"), std::string::npos);
  EXPECT_NE(queues.find("max 16 in flight"), std::string::npos);

  EXPECT_EQ(count(dom, "<tr class=\"stage"), 4u);
  EXPECT_EQ(count(dom, "<tr class=\"phase\""), 5u);
  EXPECT_NE(dom.find("<tr class=\"stage bottleneck\"><td>edges"), std::string::npos);
  EXPECT_NE(dom.find("gaussian_blur"), std::string::npos);
  EXPECT_NE(dom.find("↳ mux"), std::string::npos);

  EXPECT_NE(dom.find("stages.edges.concurrency"), std::string::npos);
  EXPECT_NE(dom.find("edges is CPU-bound and busy 91% of the run"), std::string::npos);
  EXPECT_NE(dom.find("blur waits on edges for 19.1 s (blocked)"), std::string::npos);
  EXPECT_NE(dom.find("Bottleneck: <strong>edges</strong>"), std::string::npos);
  EXPECT_NE(dom.find("samples/media/sample.mp4"), std::string::npos);
  EXPECT_NE(dom.find("<title>framepipe report: edges</title>"), std::string::npos);
}

// Under the cores' limit the stage named is the busiest, not a bottleneck, as the terminal says.
TEST_F(ReportHtmlBrowser, ARunLimitedByTheCoresNamesItsBusiestStage) {
  auto report = realistic_report();
  report["limited_by"] = "cores";
  const Page page = open(report);
  ASSERT_NO_FATAL_FAILURE(expect_clean(page));
  EXPECT_NE(page.dom.find("Busiest stage: <strong>edges</strong>"), std::string::npos);
  EXPECT_EQ(page.dom.find("Bottleneck: <strong>"), std::string::npos);
}

TEST_F(ReportHtmlBrowser, FailedRunWithNoFramesShowsTheErrorAndEmptyCharts) {
  const Page page = open(failed_report());
  ASSERT_NO_FATAL_FAILURE(expect_clean(page));
  EXPECT_NE(page.dom.find("Error: decode: cannot open missing.mp4: No such file or directory"),
            std::string::npos);
  EXPECT_NE(page.dom.find(">failed<"), std::string::npos);
  for (const char* name : {"stage-bars", "split", "timeline", "queues"}) {
    EXPECT_NE(chart(page.dom, name).find("class=\"empty\""), std::string::npos) << name;
  }
  EXPECT_NE(page.dom.find("No stages ran."), std::string::npos);
}

TEST_F(ReportHtmlBrowser, MarkupInNamesAndErrorsShowsAsText) {
  const Page page = open(hostile_report());
  ASSERT_NO_FATAL_FAILURE(expect_clean(page));
  const std::string& dom = page.dom;
  // Only the template's own scripts exist, and none of the injected elements.
  EXPECT_EQ(count(dom, "<script"), count(render_html_report(realistic_report()), "<script"));
  EXPECT_EQ(count(dom, "<script"), 2u);
  EXPECT_EQ(count(dom, "<img"), 0u);
  EXPECT_EQ(dom.find(kHostile), std::string::npos);
  // Shown as literal text: the header, input, error, stage row, phase, advice, conclusions,
  // chart labels and the configuration all carry it.
  EXPECT_GE(count(dom, kHostileInDom), 10u) << dom;
  EXPECT_NE(dom.find("Error: " + std::string(kHostileInDom) +
                     " &lt;/script&gt;&lt;!-- &lt;img src=x onerror=alert(2)&gt;"),
            std::string::npos);
  EXPECT_NE(dom.find("Bottleneck: <strong>" + std::string(kHostileInDom) + "</strong>"),
            std::string::npos);
  // The page still works: every chart drew.
  EXPECT_EQ(count(chart(dom, "queues"), "<polyline"), 4u);
  EXPECT_EQ(count(chart(dom, "timeline"), "<polyline"), 2u);
  EXPECT_EQ(count(chart(dom, "stage-bars"), "<rect class=\"k-"), 21u);
  EXPECT_EQ(count(chart(dom, "split"), "<rect class=\"k-"), 3u);
}

}  // namespace
}  // namespace framepipe::testing
