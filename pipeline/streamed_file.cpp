#include "pipeline/streamed_file.h"

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

void stream_json(const nlohmann::json& value, int indent, const TextSink& write, int depth) {
  const bool pretty = indent >= 0;
  const auto new_line = [&](int level) {
    if (pretty) write("\n" + std::string(static_cast<std::size_t>(indent * level), ' '));
  };
  if (value.is_object() && !value.empty()) {
    write("{");
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) write(",");
      first = false;
      new_line(depth + 1);
      write(dump_json(nlohmann::json(key)));
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
    write(dump_json(value));  // a scalar, {} or []
  }
}

void write_json_file(const std::filesystem::path& path, const nlohmann::json& value, int indent) {
  write_streamed_file_atomically(path, [&](const TextSink& write) {
    stream_json(value, indent, write);
    write("\n");
  });
}

}  // namespace framepipe
