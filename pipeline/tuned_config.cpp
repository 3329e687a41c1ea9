#include "pipeline/tuned_config.h"

#include <yaml-cpp/yaml.h>

#include <optional>

#include "pipeline/config.h"
#include "pipeline/json_text.h"

namespace framepipe {

namespace {

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
    parts.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(key.substr(start));
  return parts;
}

std::size_t line_start(const std::string& text, std::size_t pos) {
  const auto newline = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  return pos == 0 || newline == std::string::npos ? 0 : newline + 1;
}

std::size_t line_end(const std::string& text, std::size_t pos) {
  const auto newline = text.find('\n', pos);
  return newline == std::string::npos ? text.size() : newline;
}

// The comment line for an edit, indented as the line at `pos`.
std::string note_line(const std::string& text, std::size_t pos, const std::string& note) {
  const auto start = line_start(text, pos);
  std::size_t indent = 0;
  while (start + indent < text.size() && text[start + indent] == ' ') ++indent;
  std::string clean = note;
  for (auto& c : clean) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::string(indent, ' ') + "# " + clean + "\n";
}

// The end of a plain or quoted scalar that starts at `pos`.
std::size_t scalar_end(const std::string& text, std::size_t pos) {
  if (pos < text.size() && (text[pos] == '"' || text[pos] == '\'')) {
    const char quote = text[pos];
    for (auto i = pos + 1; i < text.size(); ++i) {
      if (text[i] == '\\' && quote == '"') {
        ++i;
      } else if (text[i] == quote) {
        return i + 1;
      }
    }
    return text.size();
  }
  auto end = pos;
  while (end < text.size() && std::string_view(",}]#\n\r").find(text[end]) == std::string::npos)
    ++end;
  while (end > pos && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  return end;
}

// The position of the '}' closing the flow map that opens at `open`.
std::optional<std::size_t> flow_end(const std::string& text, std::size_t open) {
  int depth = 0;
  for (auto i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      i = scalar_end(text, i) - 1;
    } else if (c == '#' && i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
      i = line_end(text, i);
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i;
    }
  }
  return std::nullopt;
}

// Adds `entry` ("key: value") to the map `map`; false when its layout is not one handled.
bool add_to_map(std::string& text, const YAML::Node& map, const std::string& entry,
                const std::string& note) {
  const auto pos = map.Mark().pos;
  if (pos < 0 || static_cast<std::size_t>(pos) >= text.size()) return false;
  if (text[pos] == '{') {
    const auto close = flow_end(text, pos);
    if (!close) return false;
    auto before = *close;
    while (before > static_cast<std::size_t>(pos) + 1 &&
           (text[before - 1] == ' ' || text[before - 1] == '\n'))
      --before;
    const bool empty = before == static_cast<std::size_t>(pos) + 1;
    text.insert(before, (empty ? " " : ", ") + entry + (empty ? " " : ""));
    const auto start = line_start(text, *close);
    text.insert(start, note_line(text, start, note));
    return true;
  }
  if (map.size() == 0) return false;
  const auto first = map.begin();
  const auto key_mark = first->first.Mark();
  const auto value_mark = first->second.Mark();
  const std::string indent(static_cast<std::size_t>(key_mark.column), ' ');
  const std::string lines =
      note_line(text, static_cast<std::size_t>(key_mark.pos), note) + indent + entry;
  if (first->second.IsScalar() && value_mark.line == key_mark.line) {
    // After the first key's line: its value ends there.
    text.insert(line_end(text, static_cast<std::size_t>(key_mark.pos)), "\n" + lines);
    return true;
  }
  const auto start = line_start(text, static_cast<std::size_t>(key_mark.pos));
  if (text.find_first_not_of(' ', start) != static_cast<std::size_t>(key_mark.pos)) return false;
  text.insert(start, lines + "\n");
  return true;
}

// Makes one edit in `text`; false when the layout is not one handled.
bool edit_one(std::string& text, const SettingEdit& edit) {
  const YAML::Node root = YAML::Load(text);
  if (!root.IsMap()) return false;
  auto parts = split_key(edit.key);
  // reset(), not =: assigning a YAML::Node writes into the node it refers to.
  YAML::Node node;
  node.reset(root);
  if (parts.size() >= 3 && parts[0] == "stages") {
    const auto stages = root["stages"];
    if (!stages.IsSequence()) return false;
    bool found = false;
    for (std::size_t i = 0; i < stages.size() && !found; ++i) {
      const auto stage = stages[i];
      found = stage.IsMap() && stage["name"] && stage["name"].IsScalar() &&
              stage["name"].Scalar() == parts[1];
      if (found) node.reset(stage);
    }
    if (!found) return false;
    parts.erase(parts.begin(), parts.begin() + 2);
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const YAML::Node child = node[parts[i]];
    if (child.IsDefined() && !child.IsNull()) {
      node.reset(child);
      continue;
    }
    if (child.IsDefined()) return false;  // "key:" with no value: not a layout to guess at
    // The missing part and what is under it, as one entry of `node`.
    std::string entry = parts.back() + ": " + edit.value;
    for (auto j = parts.size() - 1; j-- > i;) entry = parts[j] + ": { " + entry + " }";
    return node.IsMap() && add_to_map(text, node, entry, edit.note);
  }
  if (!node.IsScalar()) return false;
  const auto pos = static_cast<std::size_t>(node.Mark().pos);
  text.replace(pos, scalar_end(text, pos) - pos, edit.value);
  const auto start = line_start(text, pos);
  text.insert(start, note_line(text, start, edit.note));
  return true;
}

}  // namespace

std::string config_with_edits(const std::string& yaml, const std::string& origin,
                              const std::vector<SettingEdit>& edits, const Registry& registry) {
  std::vector<std::string> overrides;
  for (const auto& edit : edits) overrides.push_back(edit.key + "=" + edit.value);
  const Config expected = load_config_text(yaml, origin, overrides, registry);
  const auto expected_json = dump_json(config_json(expected));
  std::string text = yaml;
  bool edited = true;
  try {
    for (const auto& edit : edits) edited = edited && edit_one(text, edit);
    edited = edited &&
             dump_json(config_json(load_config_text(text, origin, {}, registry))) == expected_json;
  } catch (const std::exception&) {
    edited = false;
  }
  if (edited) return text;
  std::string header;
  for (const auto& edit : edits) header += "# " + edit.key + ": " + edit.note + "\n";
  return header + effective_yaml(expected);
}

}  // namespace framepipe
