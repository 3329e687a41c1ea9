#include "pipeline/safe_text.h"

#include <cctype>
#include <cstdio>

namespace framepipe {

namespace {

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

}  // namespace

std::string redact_credentials(std::string_view text) {
  std::string out;
  std::size_t done = 0;
  for (auto marker = text.find("://"); marker != std::string_view::npos;
       marker = text.find("://", marker + 3)) {
    if (marker == 0 || !is_scheme_char(text[marker - 1])) continue;
    // The authority ends at the first '/', '?', '#' or white space; its user information at
    // the last '@' in it.
    const auto start = marker + 3;
    auto end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' &&
           !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '\'' &&
           text[end] != '"') {
      ++end;
    }
    const auto authority = text.substr(start, end - start);
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    const auto colon = authority.find(':');
    if (colon == std::string_view::npos || colon > at) continue;
    out.append(text.substr(done, start + colon + 1 - done));
    out += "***";
    done = start + at;
  }
  out.append(text.substr(done));
  return out;
}

nlohmann::json redact_json_credentials(const nlohmann::json& json) {
  if (json.is_string()) return redact_credentials(json.get_ref<const std::string&>());
  if (json.is_array()) {
    auto out = nlohmann::json::array();
    for (const auto& item : json) out.push_back(redact_json_credentials(item));
    return out;
  }
  if (json.is_object()) {
    auto out = nlohmann::json::object();
    for (const auto& [key, value] : json.items()) {
      out[redact_credentials(key)] = redact_json_credentials(value);
    }
    return out;
  }
  return json;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
        out += escaped;
      }
    }
  }
  return out;
}

std::string safe_line(std::string_view text) { return printable(redact_credentials(text)); }

}  // namespace framepipe
