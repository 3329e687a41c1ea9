#include "pipeline/streamed_file.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

#include "pipeline/atomic_file.h"
#include "pipeline/json_text.h"

namespace framepipe {

void write_streamed_file_atomically(const std::filesystem::path& path,
                                    const std::function<void(const TextSink&)>& produce) {
  // Big enough that the writes cost little, small enough not to matter beside a frame.
  constexpr std::size_t kChunkBytes = 64 * 1024;
  AtomicFile file(path);
  std::string chunk;
  chunk.reserve(kChunkBytes + 1024);
  produce([&](std::string_view text) {
    chunk += text;
    if (chunk.size() >= kChunkBytes) {
      file.write(chunk);
      chunk.clear();
    }
  });
  file.write(chunk);
  file.commit();
}

namespace {

// Nothing in it that nlohmann::json escapes or that with_valid_utf8 could change: printable
// ASCII but the quote and the backslash. Most keys, statuses and names are.
bool needs_no_escaping(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

// An integer as nlohmann::json writes it: plain decimal digits, a minus sign when negative.
template <typename Integer>
void write_decimal(Integer value, const TextSink& write) {
  char digits[24];
  write({digits, std::to_chars(digits, digits + sizeof digits, value).ptr});
}

// dump_json's text for a value with no elements: strings and integers without a JSON value
// made for them, which is most of a report's scalars; anything else through dump_json.
void write_scalar(const nlohmann::json& value, const TextSink& write) {
  if (value.is_string()) {
    stream_json_string(value.get_ref<const std::string&>(), write);
  } else if (value.is_number_unsigned()) {
    stream_json_integer(value.get<std::uint64_t>(), write);
  } else if (value.is_number_integer()) {
    stream_json_integer(value.get<std::int64_t>(), write);
  } else {
    write(dump_json(value));  // a double, a boolean, null, {} or []
  }
}

}  // namespace

void stream_json_string(std::string_view text, const TextSink& write) {
  if (!needs_no_escaping(text)) return write(dump_json(nlohmann::json(std::string(text))));
  write("\"");
  write(text);
  write("\"");
}

void stream_json_integer(std::int64_t value, const TextSink& write) { write_decimal(value, write); }

void stream_json_integer(std::uint64_t value, const TextSink& write) {
  write_decimal(value, write);
}

void stream_json(const nlohmann::json& value, int indent, const TextSink& write, int depth) {
  const bool pretty = indent >= 0;
  const auto new_line = [&](int level) {
    if (!pretty) return;
    static const std::string kSpaces(256, ' ');
    const auto width = static_cast<std::size_t>(indent * level);
    write("\n");
    if (width <= kSpaces.size()) {
      write(std::string_view(kSpaces).substr(0, width));
    } else {
      write(std::string(width, ' '));
    }
  };
  if (value.is_object() && !value.empty()) {
    write("{");
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) write(",");
      first = false;
      new_line(depth + 1);
      stream_json_string(key, write);
      write(pretty ? ": " : ":");
      stream_json(item, indent, write, depth + 1);
    }
    new_line(depth);
    write("}");
  } else if (value.is_array() && !value.empty()) {
    write("[");
    bool first = true;
    for (const auto& item : value) {
      if (!first) write(",");
      first = false;
      new_line(depth + 1);
      stream_json(item, indent, write, depth + 1);
    }
    new_line(depth);
    write("]");
  } else {
    write_scalar(value, write);
  }
}

void write_json_file(const std::filesystem::path& path, const nlohmann::json& value, int indent) {
  write_streamed_file_atomically(path, [&](const TextSink& write) {
    stream_json(value, indent, write);
    write("\n");
  });
}

}  // namespace framepipe
