#pragma once

// JSON strings must be UTF-8, but a file name on Linux is any bytes. Every string framepipe
// writes into JSON goes through escape_invalid_utf8(), which keeps valid UTF-8 as it is and
// writes each byte that is not part of a valid sequence as U+FFFD (the replacement character,
// what a viewer would show anyway) followed by the byte in two uppercase hex digits: the name
// "a\xff.mp4" is stored as "a\uFFFDFF.mp4". A U+FFFD of the name itself is escaped too (its
// bytes EF BF BD as "\uFFFDEF\uFFFDBF\uFFFDBD"), so unescape_invalid_utf8() gives back the
// exact bytes of every name. Strings without either are unchanged.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace framepipe {

std::string escape_invalid_utf8(std::string_view bytes);
// The inverse of escape_invalid_utf8 (a U+FFFD not followed by two hex digits stays as it is).
std::string unescape_invalid_utf8(std::string_view text);

// `value` (nlohmann::json or ordered_json) with every string and object key escaped as above.
template <typename Json>
Json with_valid_utf8(const Json& value) {
  if (value.is_string()) {
    return escape_invalid_utf8(value.template get_ref<const std::string&>());
  }
  if (value.is_array()) {
    auto copy = Json::array();
    for (const auto& item : value) copy.push_back(with_valid_utf8(item));
    return copy;
  }
  if (value.is_object()) {
    auto copy = Json::object();
    for (const auto& [key, item] : value.items()) {
      copy[escape_invalid_utf8(key)] = with_valid_utf8(item);
    }
    return copy;
  }
  return value;
}

// value.dump(indent) of with_valid_utf8(value): never throws for invalid UTF-8.
template <typename Json>
std::string dump_json(const Json& value, int indent = -1) {
  return with_valid_utf8(value).dump(indent);
}

}  // namespace framepipe
