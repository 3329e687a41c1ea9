#include "pipeline/summary.h"

#include <algorithm>
#include <map>
#include <set>

#include "pipeline/analysis.h"
#include "pipeline/json_fields.h"
#include "pipeline/text_format.h"

namespace framepipe {

namespace {

// object[key], or null when it has no such member. (operator[] on a const json with a missing
// key is undefined behaviour: an assertion in debug builds. A report.json is user input.)
const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json null;
  if (!object.is_object()) return null;
  const auto it = object.find(key);
  return it != object.end() ? *it : null;
}

// "a.b.c" -> scalar, for the config keys that differ between two runs. Stages are keyed by
// name, as --set addresses them.
void flatten(const nlohmann::json& value, const std::string& path,
             std::map<std::string, std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      flatten(item, path.empty() ? key : path + "." + key, out);
  } else if (value.is_array() && path == "stages") {
    for (const auto& stage : value) flatten(stage, "stages." + json_string(stage, "name"), out);
  } else {
    out[path] = value.is_string() ? value.get<std::string>() : value.dump();
  }
}

const nlohmann::json* find_stage(const nlohmann::json& report, const std::string& name) {
  for (const auto& stage : member(report, "stages")) {
    if (json_string(stage, "name") == name) return &stage;
  }
  return nullptr;
}

// A run with `pipeline.profile: false` measured no times: only what the engine counts.
std::string format_unprofiled_stages(const nlohmann::json& report) {
  std::string out = format("%-14s %-13s %5s %7s %8s\n", "stage", "type", "conc", "items", "p95 ms");
  for (const auto& stage : member(report, "stages")) {
    out += format("%-14s %-13s %5s %7lld %8.2f\n", json_string(stage, "name").c_str(),
                  json_string(stage, "type").c_str(), json_string(stage, "concurrency").c_str(),
                  static_cast<long long>(json_number(stage, "items")),
                  json_number(member(stage, "latency_ms"), "p95"));
  }
  return out + "not profiled (pipeline.profile: false): no times, classes or advice\n";
}

std::string format_profiled_stages(const nlohmann::json& report) {
  // Off-CPU time in two: runnable (waiting for a core) and sleeping (IO, locks); a stage's
  // idle workers in two: starved (no input) and waiting for a thread (input queued).
  std::string out = format("%-14s %-13s %-9s %5s %7s %8s %8s %8s %8s %8s %8s %8s %5s %8s\n",
                           "stage", "type", "class", "conc", "items", "busy s", "cpu s", "runnable",
                           "sleeping", "starved", "thr-wait", "blocked", "util", "p95 ms");
  for (const auto& stage : member(report, "stages")) {
    out += format(
        "%-14s %-13s %-9s %5s %7lld %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %4.0f%% %8.2f\n",
        json_string(stage, "name").c_str(), json_string(stage, "type").c_str(),
        json_string(stage, "class").c_str(), json_string(stage, "concurrency").c_str(),
        static_cast<long long>(json_number(stage, "items")), json_number(stage, "busy_s"),
        json_number(stage, "cpu_s"), json_number(stage, "runnable_s"),
        json_number(stage, "sleeping_s"), json_number(stage, "starved_s"),
        json_number(stage, "waiting_for_thread_s"), json_number(stage, "blocked_s"),
        json_number(stage, "utilization") * 100, json_number(member(stage, "latency_ms"), "p95"));
    for (const auto& phase : member(stage, "phases")) {
      out += format("  - %-26s %-9s %13s %8.3f %8.3f %8.3f %8.3f\n",
                    json_string(phase, "name").c_str(), "", json_string(phase, "class").c_str(),
                    json_number(phase, "wall_s"), json_number(phase, "cpu_s"),
                    json_number(phase, "runnable_s"), json_number(phase, "sleeping_s"));
    }
  }
  return out;
}

// A report's verdict in one line: its conclusion that says what limits it ("limited by ...",
// "source-bound: ..."), else the throughput model's, else its bottleneck.
std::string verdict_of(const nlohmann::json& report) {
  std::string model;
  for (const auto& conclusion : member(report, "conclusions")) {
    if (!conclusion.is_string()) continue;
    const auto said = conclusion.get<std::string>();
    if (said.starts_with("limited by") || said.starts_with("source-bound")) return said;
    if (model.empty() && said.starts_with("throughput model")) model = said;
  }
  if (!model.empty()) return model;
  const auto bottleneck = json_string(report, "bottleneck");
  return bottleneck.empty() ? "-" : "bottleneck " + bottleneck;
}

std::string conclusions_and_advice(const nlohmann::json& report) {
  std::string out;
  for (const auto& conclusion : member(report, "conclusions"))
    if (conclusion.is_string()) out += conclusion.get<std::string>() + "\n";
  for (const auto& advice : member(report, "advice")) {
    out += "advice: set " + json_string(advice, "key") + ": " + json_string(advice, "to") +
           " (now " + json_string(advice, "from") + ") - " + json_string(advice, "reason") + "\n";
  }
  return out;
}

}  // namespace

std::string format_summary(const nlohmann::json& report) {
  const auto& profiled = member(report, "profiled");
  const bool unprofiled = profiled.is_boolean() && !profiled.get<bool>();
  std::string out = unprofiled ? format_unprofiled_stages(report) : format_profiled_stages(report);
  out += format(
      "%lld frames in %.3f s = %.1f fps; %d oneTBB threads on %d cores; peak %d of %d "
      "frames in flight\n",
      static_cast<long long>(json_number(report, "frames")), json_number(report, "wall_s"),
      json_number(report, "fps"), static_cast<int>(json_number(report, "threads")),
      static_cast<int>(json_number(report, "cores")),
      static_cast<int>(json_number(report, "peak_frames_in_flight")),
      static_cast<int>(json_number(report, "max_frames_in_flight")));
  // A run that did not finish still has its report: say so before anything is read into it.
  if (const auto status = json_string(report, "status");
      status == "cancelled" || status == "failed") {
    out += "status: " + status +
           (status == "failed" ? " (" + json_string(report, "error") + ")" : "") +
           ": the figures cover the frames before it stopped\n";
  }
  for (const auto& rewrite : member(report, "rewrites"))
    out += "rewrite " + json_string(rewrite, "line") + "\n";
  if (unprofiled) return out;
  return out + conclusions_and_advice(report);
}

std::string format_batch_summary(const nlohmann::json& batch) {
  std::string out = format("%-14s %-13s %-9s %5s %7s %8s %8s %8s %8s %8s %8s %8s %5s\n", "stage",
                           "type", "class", "files", "items", "busy s", "cpu s", "runnable",
                           "sleeping", "starved", "thr-wait", "blocked", "util");
  for (const auto& stage : member(batch, "stages")) {
    out += format(
        "%-14s %-13s %-9s %5lld %7lld %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %4.0f%%\n",
        json_string(stage, "name").c_str(), json_string(stage, "type").c_str(),
        json_string(stage, "class").c_str(), static_cast<long long>(json_number(stage, "files")),
        static_cast<long long>(json_number(stage, "items")), json_number(stage, "busy_s"),
        json_number(stage, "cpu_s"), json_number(stage, "runnable_s"),
        json_number(stage, "sleeping_s"), json_number(stage, "starved_s"),
        json_number(stage, "waiting_for_thread_s"), json_number(stage, "blocked_s"),
        json_number(stage, "utilization") * 100);
  }
  const auto& totals = member(batch, "totals");
  const auto files_at_once = json_number(batch, "files_in_parallel");
  out += format(
      "batch of %lld files: %lld ok, %lld damaged, %lld failed, %lld skipped, %lld cancelled; "
      "%lld frames in %.3f s = %.1f fps; %lld %s at once\n",
      static_cast<long long>(json_number(totals, "files")),
      static_cast<long long>(json_number(totals, "ok")),
      static_cast<long long>(json_number(totals, "damaged")),
      static_cast<long long>(json_number(totals, "failed")),
      static_cast<long long>(json_number(totals, "skipped")),
      static_cast<long long>(json_number(totals, "cancelled")),
      static_cast<long long>(json_number(totals, "frames")), json_number(totals, "wall_s"),
      json_number(totals, "fps"), static_cast<long long>(files_at_once),
      files_at_once == 1 ? "file" : "files");
  if (!json_string(batch, "bottleneck").empty()) {
    const auto limited_by = json_string(batch, "limited_by");
    out += std::string(bottleneck_word(limited_by)) + ": " + json_string(batch, "bottleneck") +
           " (limited by " + limited_by + ")\n";
  }
  out += conclusions_and_advice(batch);
  return out;
}

std::string format_comparison(const nlohmann::json& a, const nlohmann::json& b) {
  auto ratio = [](double x, double y) { return x > 0 ? y / x : 0.0; };
  std::string out = format("%-22s %12s %12s %8s\n", "", "A", "B", "B/A");
  if (!json_string(a, "kind").empty() || !json_string(b, "kind").empty()) {
    out += format("%-22s %12s %12s\n", "kind", json_string(a, "kind").c_str(),
                  json_string(b, "kind").c_str());
  }
  if (member(a, "files").is_number() || member(b, "files").is_number()) {
    out += format("%-22s %12lld %12lld\n", "files", static_cast<long long>(json_number(a, "files")),
                  static_cast<long long>(json_number(b, "files")));
  }
  out += format("%-22s %12.1f %12.1f %7.2fx\n", "fps", json_number(a, "fps"), json_number(b, "fps"),
                ratio(json_number(a, "fps"), json_number(b, "fps")));
  out +=
      format("%-22s %12.3f %12.3f %7.2fx\n", "wall s", json_number(a, "wall_s"),
             json_number(b, "wall_s"), ratio(json_number(a, "wall_s"), json_number(b, "wall_s")));
  out += format("%-22s %12lld %12lld\n", "frames", static_cast<long long>(json_number(a, "frames")),
                static_cast<long long>(json_number(b, "frames")));
  out += format("%-22s %12s %12s\n", "bottleneck", json_string(a, "bottleneck").c_str(),
                json_string(b, "bottleneck").c_str());
  out += format("%-22s %12s %12s\n", "limited by", json_string(a, "limited_by").c_str(),
                json_string(b, "limited_by").c_str());
  // Pipeline order: A's stages as its report lists them, then any only B has.
  std::vector<std::string> names;
  for (const auto* report : {&a, &b}) {
    for (const auto& stage : member(*report, "stages")) {
      const auto name = json_string(stage, "name");
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  for (const auto& name : names) {
    const auto* sa = find_stage(a, name);
    const auto* sb = find_stage(b, name);
    for (const char* key : {"busy_s", "cpu_s", "utilization"}) {
      const double va = sa ? json_number(*sa, key) : 0.0;
      const double vb = sb ? json_number(*sb, key) : 0.0;
      out +=
          format("%-22s %12.3f %12.3f %7.2fx\n", (name + " " + key).c_str(), va, vb, ratio(va, vb));
    }
    out += format("%-22s %12s %12s\n", (name + " class").c_str(),
                  sa ? json_string(*sa, "class").c_str() : "-",
                  sb ? json_string(*sb, "class").c_str() : "-");
  }
  for (const auto& [side, report] : {std::pair{"A", &a}, std::pair{"B", &b}}) {
    out += std::string("verdict ") + side + ": " + verdict_of(*report) + "\n";
    const auto& advice = member(*report, "advice");
    if (advice.empty()) out += std::string("advice ") + side + ": none\n";
    for (const auto& item : advice) {
      out += std::string("advice ") + side + ": set " + json_string(item, "key") + ": " +
             json_string(item, "to") + " (now " + json_string(item, "from") + ") - " +
             json_string(item, "reason") + "\n";
    }
  }
  std::map<std::string, std::string> config_a, config_b;
  flatten(member(a, "config"), "", config_a);
  flatten(member(b, "config"), "", config_b);
  std::set<std::string> keys;
  for (const auto& [key, value] : config_a) keys.insert(key);
  for (const auto& [key, value] : config_b) keys.insert(key);
  std::string differences;
  for (const auto& key : keys) {
    const auto va = config_a.contains(key) ? config_a[key] : "-";
    const auto vb = config_b.contains(key) ? config_b[key] : "-";
    if (va != vb) differences += "  " + key + ": " + va + " -> " + vb + "\n";
  }
  out += differences.empty() ? "config: identical\n"
                             : "config keys that differ (A -> B):\n" + differences;
  return out;
}

}  // namespace framepipe
