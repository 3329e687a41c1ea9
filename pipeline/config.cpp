#include "pipeline/config.h"

#include <oneapi/tbb/info.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "pipeline/file_kind.h"
#include "pipeline/output_names.h"
#include "pipeline/report_dir.h"
#include "pipeline/sequence_pattern.h"
#include "pipeline/settings.h"
#include "pipeline/suggest.h"

namespace framepipe {

namespace {

// The most threads the io stages of a batch may have at once: files_in_parallel x the sum of
// the io stages' concurrency.
constexpr int kMaxIoThreads = 4096;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

// The name a stage entry is addressed by: its name, or its type when unnamed; "" when neither.
std::string stage_name(const YAML::Node& stage) {
  if (!stage.IsMap()) return "";
  const auto named = stage["name"];
  const auto type = stage["type"];
  if (named) return named.IsScalar() ? named.Scalar() : "";
  return type && type.IsScalar() ? type.Scalar() : "";
}

// The stage a `stages.<name>` override path addresses.
YAML::Node find_stage_node(const YAML::Node& stages, const std::string& name) {
  for (const auto& stage : stages) {
    if (stage_name(stage) == name) return stage;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::vector<std::string> stage_names(const YAML::Node& stages) {
  std::vector<std::string> names;
  for (const auto& stage : stages) {
    if (auto name = stage_name(stage); !name.empty()) names.push_back(std::move(name));
  }
  return names;
}

// Applies "a.b.c=value" to the tree; returns an error message or "".
std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return "--set " + assignment +
           ": expected KEY=VALUE, e.g. pipeline.threads=4 or stages.NAME.params.KEY=VALUE";
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const auto segments = split(key, '.');
  YAML::Node current;
  current.reset(root);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    const auto& segment = segments[i];
    if (segment.empty()) return "--set " + assignment + ": empty key segment in '" + key + "'";
    YAML::Node next;
    if (current.IsSequence()) {
      next.reset(find_stage_node(current, segment));
      if (!next.IsDefined()) {
        const auto names = stage_names(current);
        return "--set " + assignment + ": no stage named '" + segment + "'" +
               did_you_mean(segment, names) + "; stages: " + join(names);
      }
    } else if (current.IsMap() || current.IsNull() || !current.IsDefined()) {
      if (!current[segment] || current[segment].IsNull()) {
        current[segment] = YAML::Node(YAML::NodeType::Map);
      }
      next.reset(current[segment]);
    } else {
      // At the first segment, `current` is the document itself (a scalar config file).
      const auto parent = i == 0 ? std::string("the config") : "'" + segments[i - 1] + "'";
      return "--set " + assignment + ": " + parent + " is not a map";
    }
    current.reset(next);
  }
  if (!current.IsMap()) return "--set " + assignment + ": '" + key + "' does not name a map key";
  try {
    current[segments.back()] = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    return "--set " + assignment + ": value is not valid YAML: " + e.msg;
  }
  return "";
}

std::string location(const std::string& origin, const YAML::Mark& mark) {
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// yaml-cpp keeps both entries of a key given twice in one map, and lookups find the first: a
// second value would be silently ignored. Every such key is a problem naming both places.
// The problems by line and column (0-based), in that order.
using LocatedProblems = std::map<std::pair<int, int>, std::string>;

LocatedProblems duplicate_keys(const YAML::Node& root, const std::string& origin) {
  LocatedProblems problems;
  std::vector<YAML::Node> pending = {root};  // a stack, not recursion: nesting may be deep
  // Aliases share nodes, and one may even contain itself (&a [*a]): the walk stops after more
  // nodes than any config has rather than expanding them without end.
  for (int budget = 100000; !pending.empty() && budget > 0; --budget) {
    const YAML::Node node = pending.back();
    pending.pop_back();
    if (node.IsSequence()) {
      for (const auto& item : node) pending.push_back(item);
      continue;
    }
    if (!node.IsMap()) continue;
    std::map<std::string, YAML::Mark> seen;
    for (const auto& item : node) {
      pending.push_back(item.second);
      if (!item.first.IsScalar()) continue;
      const auto mark = item.first.Mark();
      const auto [first, inserted] = seen.emplace(item.first.Scalar(), mark);
      if (!inserted) {
        problems[{mark.line, mark.column}] =
            location(origin, mark) + ": duplicate key '" + item.first.Scalar() + "' (first at " +
            location(origin, first->second) + "); give each key once";
      }
    }
  }
  return problems;
}

// What validation knows of a stage entry beyond its StageConfig, for the checks of the whole
// pipeline: where it is, and its kind even when its parameters are wrong.
struct StageEntry {
  YAML::Node node;
  YAML::Node input;  // the entry's `input:` node, when given
  std::string name;
  std::string path;         // "stages.<name>", for --set
  const StageInfo* info{};  // null when the type is missing or unknown
  StageConfig* config{};    // null when the type is missing or unknown
};

class Validator {
 public:
  Validator(std::string origin, std::map<std::string, std::string> overrides,
            const Registry& registry)
      : origin_(std::move(origin)), overrides_(std::move(overrides)), registry_(registry) {}

  // A problem found outside the validation: a key given twice, at its place in the file; an
  // override that could not be applied, after the file's problems.
  void add_problem(std::string text, std::pair<int, int> at = {kAfterFile, 0}) {
    problems_.push_back({at.first, at.second, std::move(text)});
  }

  Config validate(const YAML::Node& root) {
    Config config;
    config.origin = origin_;
    if (!root.IsMap()) {
      problem(root, "", "the config must be a map with keys pipeline, input, output, stages");
      throw error();
    }
    std::vector<std::string> sections;
    for (const auto& section : engine_settings()) sections.push_back(section.name);
    sections.push_back("stages");
    check_keys(root, "", sections, "top level");
    for (const auto& section : engine_settings()) {
      const auto node = root[section.name];
      if (!node) continue;
      // `input: clip.mp4` is short for `input: { path: clip.mp4 }`.
      if (section.name == "input" && node.IsScalar()) {
        config.input_path = node.Scalar();
      } else if (section.name == "input" && node.IsMap() && node["sequence"]) {
        read_section(node, section, config, {"sequence"});
        read_sequence(node, section, config);
      } else {
        read_section(node, section, config);
      }
    }
    if (const auto node = root["stages"]) {
      read_stages(node, config);
    } else {
      problem(root, "", "missing 'stages': list the stages to run, starting with a source");
    }
    check_graph();
    check_io_threads(root, config);
    check_report_dir(root, config);
    if (!problems_.empty()) throw error();
    warn_of_settings_without_effect(root, config);
    apply_rewrites(config);
    return config;
  }

  StageConfig validate_stage(const YAML::Node& entry, bool run_check) {
    run_checks_ = run_check;
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(entry);
    Config config;
    read_stages(list, config);
    if (!problems_.empty()) throw error();
    return config.stages.front();
  }

 private:
  static constexpr int kAfterFile = INT_MAX;  // the line of a problem placed by --set

  struct Problem {
    int line;  // -1: the file as a whole
    int column;
    std::string text;
  };

  // Every problem, in the order of the places they name.
  ConfigError error() const {
    auto sorted = problems_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> lines;
    for (auto& problem : sorted) lines.push_back(std::move(problem.text));
    return ConfigError(std::move(lines));
  }

  // The --set that placed the node at `path`: the override of that key or of a map holding it
  // ("stages.v.params={path: x}"), or, for a node the file does not have, an override of a key
  // inside it ("pipelin" of "pipelin.threads=2").
  const std::string* override_for(const YAML::Node& node, const std::string& path) const {
    for (const auto& [key, assignment] : overrides_) {
      if (key == path || path.starts_with(key + ".")) return &assignment;
    }
    if (node.IsDefined() && !node.Mark().is_null()) return nullptr;
    for (const auto& [key, assignment] : overrides_) {
      if (!path.empty() && key.starts_with(path + ".")) return &assignment;
    }
    return nullptr;
  }

  Problem place(const YAML::Node& node, const std::string& path) const {
    if (const auto* assignment = override_for(node, path)) {
      return {kAfterFile, 0, "--set " + *assignment};
    }
    if (!node.IsDefined() || node.Mark().is_null()) return {-1, 0, origin_};
    const auto mark = node.Mark();
    return {mark.line, mark.column, location(origin_, mark)};
  }

  void problem(const YAML::Node& node, const std::string& path, const std::string& message) {
    auto placed = place(node, path);
    placed.text += ": " + message;
    problems_.push_back(std::move(placed));
  }

  void warning(Config& config, const YAML::Node& node, const std::string& path,
               const std::string& message) const {
    config.warnings.push_back(place(node, path).text + ": " + message);
  }

  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string>& allowed, const std::string& context) {
    for (const auto& item : map) {
      const auto key = item.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const auto hint = did_you_mean(key, allowed);
      problem(item.first, path.empty() ? key : path + "." + key,
              context + ": unknown key '" + key + "'" +
                  (hint.empty() ? "; expected one of: " + join(allowed) : hint));
    }
  }

  bool read_scalar(const YAML::Node& node, const std::string& path, const ParamSpec& spec,
                   const std::string& context, ParamValue& out) {
    if (!node.IsScalar()) {
      std::string message = context + "'" + spec.name + "' must be " + spec.expectation();
      // YAML reads an unquoted {stem}... as a map: the usual slip with name templates.
      if (node.IsMap() || node.IsSequence()) {
        message += std::string(", got a YAML ") + (node.IsMap() ? "map" : "list");
        if (spec.type == ParamType::string) {
          message += " (quote a value that starts with { or [, e.g. \"{stem}.mp4\")";
        }
      }
      problem(node, path, message);
      return false;
    }
    std::string error;
    auto value = spec.parse(node.Scalar(), error);
    if (!value) {
      problem(node, path, context + error);
      return false;
    }
    out = *value;
    return true;
  }

  // One section of engine settings (pipeline/settings.h) into `config`.
  // `also`: keys the section's map may hold besides its settings, read elsewhere.
  void read_section(const YAML::Node& node, const SettingsSection& section, Config& config,
                    const std::vector<std::string>& also = {}) {
    if (!expect_map(node, section.name)) return;
    auto keys = section.key_names();
    keys.insert(keys.end(), also.begin(), also.end());
    check_keys(node, section.name, keys, section.name);
    for (const auto& setting : section.keys) {
      read_setting(node[setting.spec.name], section.name + "." + setting.spec.name, setting,
                   section.name, config);
    }
  }

  // `input: { sequence: { pattern: "frames/%06d.png", fps: 25 } }`: the pattern is
  // input.path, the rate input.fps, said in the form that shows a sequence is meant.
  void read_sequence(const YAML::Node& input, const SettingsSection& section, Config& config) {
    const auto sequence = input["sequence"];
    if (!expect_map(sequence, "input.sequence")) return;
    check_keys(sequence, "input.sequence", {"pattern", "fps"}, "input.sequence");
    for (const std::string flat : {"path", "fps"}) {
      if (input[flat]) {
        problem(input[flat], "input." + flat,
                "input: give '" + flat + "' or 'sequence', not both ('sequence: {pattern, fps}' " +
                    "sets input.path and input.fps)");
      }
    }
    const auto pattern = sequence["pattern"];
    if (!pattern) {
      problem(sequence, "input.sequence",
              "input.sequence: 'pattern' is missing: a numbered pattern (frames/%06d.png) or a "
              "glob (frames/*.png)");
      return;
    }
    if (pattern.IsScalar() && !is_sequence_pattern(pattern.Scalar())) {
      problem(pattern, "input.sequence.pattern",
              "input.sequence: '" + pattern.Scalar() +
                  "' is neither a numbered pattern (%d, %06d) nor a glob (*, ?, [...]); one "
                  "file is input.path");
      return;
    }
    for (const auto& setting : section.keys) {
      const auto& name = setting.spec.name;
      if (name == "path") read_setting(pattern, "input.sequence.pattern", setting, "input", config);
      if (name == "fps")
        read_setting(sequence["fps"], "input.sequence.fps", setting, "input.sequence", config);
    }
  }

  // One setting's `value` (none: nothing to do), checked against its spec and assigned.
  void read_setting(const YAML::Node& value, const std::string& path, const SettingSpec& setting,
                    const std::string& section, Config& config) {
    if (!value) return;
    std::vector<ParamValue> values;
    if (setting.list
            ? read_list(value, path, section, setting.spec, values)
            : read_scalar(value, path, setting.spec, section + ": ", values.emplace_back())) {
      if (!setting.if_empty.empty() && std::get<std::string>(values.front()).empty()) {
        problem(value, path,
                section + ": '" + setting.spec.name + "' must not be empty; " + setting.if_empty);
        return;
      }
      setting.assign(config, values);
    }
  }

  // A list ("include: ['*.mp4', '*.mkv']"), each item checked against `spec`.
  bool read_list(const YAML::Node& node, const std::string& path, const std::string& section,
                 const ParamSpec& spec, std::vector<ParamValue>& out) {
    if (!node.IsSequence()) {
      problem(node, path, section + ": '" + spec.name + "' must be a list, e.g. [a, b]");
      return false;
    }
    const auto problems_before = problems_.size();
    for (const auto& item : node) {
      read_scalar(item, path, spec, section + ": each of ", out.emplace_back());
    }
    return problems_.size() == problems_before;
  }

  bool expect_map(const YAML::Node& node, const std::string& path) {
    if (node.IsMap()) return true;
    problem(node, path, "'" + path + "' must be a map of settings");
    return false;
  }

  void read_stages(const YAML::Node& node, Config& config) {
    if (!node.IsSequence() || node.size() == 0) {
      problem(node, "stages", "'stages' must be a non-empty list of stages");
      return;
    }
    std::set<std::string> names;
    // Room for every stage up front: entries_ point into config.stages.
    config.stages.reserve(node.size());
    for (const auto& entry : node) {
      // Copied, not assigned: assigning a YAML::Node writes into the node it refers to.
      auto& recorded = entries_.emplace_back(StageEntry{
          .node = entry,
          .input = entry.IsMap() ? entry["input"] : YAML::Node(),
          .name = stage_name(entry),
          .path = "stages." + stage_name(entry),
      });
      if (!entry.IsMap()) {
        problem(entry, "stages", "each stage must be a map with at least 'type'");
        continue;
      }
      StageConfig stage;
      const auto type = entry["type"];
      const auto name = entry["name"];
      if (name && name.IsScalar()) stage.name = name.Scalar();
      if (!type || !type.IsScalar() || type.Scalar().empty()) {
        problem(entry, "stages",
                "stage" + (stage.name.empty() ? "" : " '" + stage.name + "'") +
                    ": missing 'type' (see `framepipe stages`)");
        continue;
      }
      stage.type = type.Scalar();
      if (stage.name.empty()) stage.name = stage.type;
      const std::string path = "stages." + stage.name;
      const std::string context = "stage '" + stage.name + "' (type " + stage.type + "): ";
      check_keys(entry, path, {"name", "type", "input", "concurrency", "params"},
                 context.substr(0, context.size() - 2));
      if (!names.insert(stage.name).second) {
        problem(entry, path,
                "duplicate stage name '" + stage.name + "'; give each stage a unique name");
      }
      stage.info = registry_.find(stage.type);
      if (!stage.info) {
        problem(type, path + ".type",
                "unknown stage type '" + stage.type + "'" +
                    did_you_mean(stage.type, registry_.types()) +
                    "; `framepipe stages` lists them");
        continue;
      }
      if (const auto input = entry["input"]) {
        if (input.IsScalar()) {
          stage.input = input.Scalar();
        } else {
          problem(input, path + ".input", context + "'input' must be a stage name");
        }
      }
      read_concurrency(entry["concurrency"], path + ".concurrency", context, stage);
      read_params(entry["params"], path + ".params", context, stage);
      recorded.info = stage.info;
      recorded.config = &config.stages.emplace_back(std::move(stage));
    }
  }

  void read_concurrency(const YAML::Node& node, const std::string& path, const std::string& context,
                        StageConfig& stage) {
    const bool serial = stage.info->ordering != Ordering::parallel;
    const bool io = stage.info->resource == ResourceClass::io;
    if (stage.info->kind == StageKind::source) {
      if (node) problem(node, path, context + "a source has no 'concurrency'");
      return;
    }
    stage.concurrency = Concurrency{!serial && !io, 1};
    if (!node) return;
    if (node.IsScalar() && node.Scalar() == "unlimited") {
      if (serial || io) {
        problem(node, path,
                context + "'concurrency' cannot be unlimited: " +
                    (serial ? "this stage is " + std::string(to_string(stage.info->ordering)) +
                                  ", so it must be 1"
                            : std::string("an io stage runs on that many dedicated threads, so "
                                          "give a number")));
      }
      return;
    }
    const auto spec = ParamSpec::integer("concurrency", 1, "-").range(1, 1024);
    std::string error;
    const auto parsed =
        node.IsScalar() ? spec.parse(node.Scalar(), error) : std::optional<ParamValue>();
    if (!parsed) {
      problem(node, path,
              context + "'concurrency' must be an integer in [1, 1024] or 'unlimited'" +
                  (node.IsScalar() ? ", got '" + node.Scalar() + "'" : ""));
      return;
    }
    stage.concurrency = Concurrency{false, static_cast<int>(std::get<std::int64_t>(*parsed))};
    if (serial && stage.concurrency.count != 1) {
      problem(node, path,
              context + "'concurrency' must be 1: this stage is " +
                  to_string(stage.info->ordering) + " (it keeps state between frames)");
    }
  }

  void read_params(const YAML::Node& node, const std::string& path, const std::string& context,
                   StageConfig& stage) {
    const auto problems_before = problems_.size();
    std::map<std::string, ParamValue> values;
    for (const auto& spec : stage.info->params) values[spec.name] = spec.default_value;
    if (node && !node.IsNull()) {
      if (!node.IsMap()) {
        problem(node, path, context + "'params' must be a map");
      } else {
        std::vector<std::string> allowed;
        for (const auto& spec : stage.info->params) allowed.push_back(spec.name);
        for (const auto& item : node) {
          const auto key = item.first.Scalar();
          const auto* spec = stage.info->find_param(key);
          if (!spec) {
            problem(item.first, path + "." + key,
                    context + "unknown parameter '" + key + "'" + did_you_mean(key, allowed) +
                        (allowed.empty() ? "; this stage takes no parameters"
                                         : "; parameters: " + join(allowed)));
            continue;
          }
          read_scalar(item.second, path + "." + key, *spec, context, values[key]);
        }
      }
    }
    stage.params = Params(std::move(values));
    const bool params_valid = problems_.size() == problems_before;
    if (run_checks_ && stage.info->check && params_valid) {
      for (const auto& message : stage.info->check(stage.params)) {
        // A check's message starts with the parameter it is about ("'ksize' must be odd").
        std::string key;
        for (const auto& spec : stage.info->params) {
          if (message.starts_with("'" + spec.name + "'")) key = spec.name;
        }
        param_problem(node, path, key, context + message);
      }
    }
    if (stage.info->output_names && params_valid) {
      check_name_fields(node, path, context, stage);
    }
  }

  // At the parameter `key` when the entry gives it (or --set does), else at the params map.
  void param_problem(const YAML::Node& params, const std::string& path, const std::string& key,
                     const std::string& message) {
    const auto value = !key.empty() && params && params.IsMap() ? params[key] : YAML::Node();
    const auto key_path = key.empty() ? path : path + "." + key;
    if (value || override_for(value, key_path)) {
      problem(value, key_path, message);
    } else {
      problem(params ? params : YAML::Node(), path, message);
    }
  }

  // report.dir's only placeholder is {run}: another would name a folder literally.
  void check_report_dir(const YAML::Node& root, const Config& config) {
    const auto wrong = report_dir_problem(config.report_dir);
    if (wrong.empty()) return;
    const auto section = root["report"];
    problem(section && section.IsMap() ? section["dir"] : YAML::Node(), "report.dir",
            "'" + config.report_dir + "' has " + wrong);
  }

  // A field of an output name template that nothing fills in would be written literally: a
  // file named "{stm}.mp4".
  void check_name_fields(const YAML::Node& params, const std::string& path,
                         const std::string& context, const StageConfig& stage) {
    auto known = output_name_fields();
    for (const auto& field : stage.info->name_fields) known.push_back("{" + field + "}");
    auto patterns = stage.info->output_names(stage.params);
    if (stage.info->image_output_names) {
      for (auto& pattern : stage.info->image_output_names(stage.params))
        patterns.push_back(std::move(pattern));
    }
    for (const auto& pattern : patterns) {
      // The parameter that holds the template, to name it.
      std::string key;
      for (const auto& [name, value] : stage.params.values()) {
        if (const auto* text = std::get_if<std::string>(&value); text && *text == pattern) {
          key = name;
        }
      }
      for (const auto& field : unknown_name_fields(pattern, stage.info->name_fields)) {
        // "{frames:06}" is compared as "{frames}": the name is what was mistyped.
        const auto colon = field.find(':');
        const auto name = colon == std::string::npos ? field : field.substr(0, colon) + "}";
        const auto what = field == "{"
                              ? std::string("a '{' that is never closed")
                              : "an unknown placeholder " + field + did_you_mean(name, known);
        param_problem(params, path, key,
                      context + "'" + key + "' (\"" + pattern + "\") has " + what +
                          "; placeholders: " + join(known));
      }
    }
  }

  // The registered types of one kind, "a, b or c", for hints: the engine names no stage itself.
  std::string types_of(StageKind kind) const {
    std::vector<std::string> types;
    for (const auto* info : registry_.all()) {
      if (info->kind == kind) types.push_back(info->type);
    }
    std::string text;
    for (std::size_t i = 0; i < types.size(); ++i) {
      text += (i == 0 ? "" : i + 1 == types.size() ? " or " : ", ") + types[i];
    }
    return text;
  }

  // Each io stage has `concurrency` threads of its own in every file of a batch at once; each
  // setting is in range, but their product could ask the system for 65536 threads.
  void check_io_threads(const YAML::Node& root, const Config& config) {
    int per_file = 0;
    for (const auto& stage : config.stages) {
      if (stage.info->resource == ResourceClass::io && stage.info->kind != StageKind::source) {
        per_file += stage.concurrency.count;
      }
    }
    const auto total = static_cast<std::int64_t>(per_file) * config.files_in_parallel;
    if (total <= kMaxIoThreads) return;
    // Checked with the other problems, so `pipeline` may not be a map.
    const auto pipeline = root["pipeline"];
    const auto node = pipeline && pipeline.IsMap() ? pipeline["files_in_parallel"] : YAML::Node();
    problem(node, "pipeline.files_in_parallel",
            "pipeline.files_in_parallel (" + std::to_string(config.files_in_parallel) +
                ") x the io stages' concurrency (" + std::to_string(per_file) +
                " threads a file) = " + std::to_string(total) + " threads, more than " +
                std::to_string(kMaxIoThreads) + ": lower one of them");
  }

  // The shape of the pipeline: a source first, each stage's input listed before it, a sink.
  // Stages whose type is unknown are skipped, but their names still count as inputs.
  void check_graph() {
    std::map<std::string, const StageEntry*> earlier;
    std::vector<std::string> earlier_names;
    bool has_sink = false;
    bool kinds_known = true;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      auto& entry = entries_[i];
      if (!entry.info) {
        kinds_known = false;
      } else {
        check_input(entry, i, earlier, earlier_names);
        has_sink = has_sink || entry.info->kind == StageKind::sink;
      }
      if (!entry.name.empty()) {
        earlier[entry.name] = &entry;
        earlier_names.push_back(entry.name);
      }
    }
    if (kinds_known && !entries_.empty() && !has_sink) {
      const auto& last = entries_.back();
      problem(
          last.node, last.path,
          "the pipeline has no sink: end it with one (type: " + types_of(StageKind::sink) + ")");
    }
  }

  void check_input(StageEntry& entry, std::size_t index,
                   const std::map<std::string, const StageEntry*>& earlier,
                   const std::vector<std::string>& earlier_names) {
    const auto kind = entry.info->kind;
    const std::string context = "stage '" + entry.name + "' (type " + entry.info->type + "): ";
    const auto& input = entry.config->input;
    if (kind == StageKind::source) {
      if (index != 0) {
        problem(entry.node, entry.path,
                context + "a source must be the first stage, and only one is supported");
      }
      if (!input.empty()) {
        problem(entry.input, entry.path + ".input", context + "a source takes no 'input'");
      }
      return;
    }
    if (index == 0) {
      problem(
          entry.node, entry.path,
          context + "the first stage must be a source (type: " + types_of(StageKind::source) + ")");
      return;
    }
    if (input.empty()) {
      const auto& previous = entries_[index - 1];
      if (previous.info && previous.info->kind == StageKind::sink) {
        problem(entry.node, entry.path,
                context + "it follows sink '" + previous.name +
                    "', which passes nothing on: add `input: <stage>`");
      }
      entry.config->input = previous.name;
      return;
    }
    const auto it = earlier.find(input);
    if (it == earlier.end()) {
      const bool later =
          std::any_of(entries_.begin() + static_cast<std::ptrdiff_t>(index) + 1, entries_.end(),
                      [&](const StageEntry& other) { return other.name == input; });
      problem(entry.input, entry.path + ".input",
              context + "input '" + input + "' is not a stage listed before this one" +
                  (later ? "; list '" + input + "' before it"
                         : did_you_mean(input, earlier_names) +
                               "; stages before it: " + join(earlier_names)));
    } else if (it->second->info && it->second->info->kind == StageKind::sink) {
      problem(entry.input, entry.path + ".input",
              context + "input '" + input + "' is a sink, which passes nothing on");
    }
  }

  // A valid setting that this machine cannot honour: a warning, not an error, since the config
  // may be meant for a larger machine.
  void warn_of_settings_without_effect(const YAML::Node& root, Config& config) const {
    const int cores = std::max(1, oneapi::tbb::info::default_concurrency());
    const auto pipeline = root["pipeline"];
    const auto threads_node = pipeline && pipeline.IsMap() ? pipeline["threads"] : YAML::Node();
    if (config.threads > cores) {
      warning(config, threads_node, "pipeline.threads",
              "pipeline.threads is " + std::to_string(config.threads) + " but this machine has " +
                  std::to_string(cores) + " cores, and oneTBB runs at most " +
                  std::to_string(cores) +
                  " threads at once: the rest cannot take effect (0 uses every core)");
    }
    const int arena = config.threads > 0 ? std::min(config.threads, cores) : cores;
    const auto arena_text = config.threads > 0 && config.threads <= cores
                                ? "pipeline.threads is " + std::to_string(config.threads)
                                : "this machine has " + std::to_string(cores) + " cores";
    for (const auto& entry : entries_) {
      if (!entry.config || entry.info->kind == StageKind::source ||
          entry.info->resource == ResourceClass::io) {
        continue;  // an io stage's concurrency is threads of its own
      }
      const auto& concurrency = entry.config->concurrency;
      if (concurrency.unlimited || concurrency.count <= arena) continue;
      warning(config, entry.node["concurrency"], entry.path + ".concurrency",
              "stage '" + entry.name + "' (type " + entry.info->type + "): concurrency " +
                  std::to_string(concurrency.count) + " cannot take effect: " + arena_text +
                  ", so at most " + std::to_string(arena) + " of its frames run at once");
    }
  }

  std::string origin_;
  std::map<std::string, std::string> overrides_;
  const Registry& registry_;
  bool run_checks_ = true;  // false: a stage's own check is skipped (registration's example)
  std::vector<Problem> problems_;
  std::vector<StageEntry> entries_;  // every stage entry, in order
};

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(problems.empty() ? "invalid config" : problems.front()),
      problems_(std::move(problems)) {}

Config load_config_text(const std::string& yaml, const std::string& origin,
                        const std::vector<std::string>& overrides, const Registry& registry) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError({location(origin, e.mark) + ": YAML syntax error: " + e.msg});
  }
  // A key given twice is reported with the rest; validation reads its first value.
  const auto duplicates = duplicate_keys(root, origin);
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  // An override that cannot be applied is reported with the config's own problems.
  std::vector<std::string> override_problems;
  std::map<std::string, std::string> override_paths;
  for (const auto& assignment : overrides) {
    if (auto error = apply_override(root, assignment); !error.empty()) {
      override_problems.push_back(error);
    } else {
      override_paths[assignment.substr(0, assignment.find('='))] = assignment;
    }
  }
  Validator validator(origin, std::move(override_paths), registry);
  for (const auto& [at, problem] : duplicates) validator.add_problem(problem, at);
  for (auto& problem : override_problems) validator.add_problem(std::move(problem));
  return validator.validate(root);
}

Config load_config_file(const std::string& path, const std::vector<std::string>& overrides,
                        const Registry& registry) {
  std::ifstream file(path);
  if (!file) {
    throw ConfigError({"cannot read config '" + path + "': " + std::strerror(errno)});
  }
  // The first bytes first: a video given where the config goes (`framepipe run clip.mp4`) is
  // named as one without being read whole, rather than failing as YAML with its bytes shown.
  constexpr std::size_t kHeadBytes = 512;
  std::string text(kHeadBytes, '\0');
  file.read(text.data(), kHeadBytes);
  text.resize(static_cast<std::size_t>(file.gcount()));
  if (const auto kind = binary_kind(text); kind.category != FileCategory::text) {
    const auto format = kind.format.empty() ? "" : " (" + kind.format + ")";
    if (kind.category == FileCategory::binary) {
      throw ConfigError({path + ": not a YAML config: a binary file (it holds NUL bytes)"});
    }
    const std::string what = kind.category == FileCategory::video   ? "a video"
                             : kind.category == FileCategory::image ? "an image"
                                                                    : "an audio file";
    const auto hint =
        kind.category == FileCategory::audio
            ? std::string("a config is a YAML file, e.g. configs/default.yaml")
            : "did you mean --input " + path + "? (framepipe run CONFIG --input " + path + ")";
    throw ConfigError(
        {path + ": that looks like " + what + format + ", not a YAML config: " + hint});
  }
  std::stringstream rest;
  rest << file.rdbuf();
  return load_config_text(text + rest.str(), path, overrides, registry);
}

StageConfig load_stage_text(const std::string& yaml, const Registry& registry, bool run_check) {
  YAML::Node entry;
  try {
    entry = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError({"stage: YAML syntax error: " + e.msg});
  }
  if (const auto duplicates = duplicate_keys(entry, "stage"); !duplicates.empty()) {
    std::vector<std::string> problems;
    for (const auto& [at, problem] : duplicates) problems.push_back(problem);
    throw ConfigError(std::move(problems));
  }
  return Validator("stage", {}, registry).validate_stage(entry, run_check);
}

nlohmann::ordered_json config_json(const Config& config) {
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (const auto& stage : config.written_stages.empty() ? config.stages : config.written_stages) {
    nlohmann::ordered_json entry = {{"name", stage.name}, {"type", stage.type}};
    if (!stage.input.empty()) entry["input"] = stage.input;
    if (stage.info->kind != StageKind::source) entry["concurrency"] = stage.concurrency.to_string();
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto& [key, value] : stage.params.values()) {
      // An init-capture: clang before 16 cannot capture a structured binding.
      std::visit([&params, &key = key](const auto& v) { params[key] = v; }, value);
    }
    if (!params.empty()) entry["params"] = params;
    stages.push_back(entry);
  }
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const auto& section : engine_settings()) {
    auto& values = json[section.name] = nlohmann::ordered_json::object();
    for (const auto& setting : section.keys) values[setting.spec.name] = setting.value(config);
  }
  json["stages"] = stages;
  return json;
}

namespace {

void emit(YAML::Emitter& out, const nlohmann::ordered_json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    // Lists of scalars read best on one line ([json, html]); lists of maps as blocks.
    const bool scalars = std::none_of(value.begin(), value.end(),
                                      [](const auto& item) { return item.is_structured(); });
    if (scalars) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& item : value) emit(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    out << value.get<std::string>();
  } else {
    out << value.dump();
  }
}

}  // namespace

std::string effective_yaml(const Config& config) {
  YAML::Emitter out;
  emit(out, config_json(config));
  std::string text = std::string(out.c_str()) + "\n";
  // The graph as it runs, where rewrites changed it: comments, so the text still loads to this.
  for (const auto& rewrite : config.rewrites_made) text += "# rewrite " + rewrite.text() + "\n";
  return text;
}

}  // namespace framepipe
