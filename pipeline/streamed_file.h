#pragma once

// Files too large to hold whole in memory while they are written (trace.json, batch.json, the
// manifest of a batch of thousands of images): their text is handed over piece by piece and
// written through an AtomicFile in chunks.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>

namespace framepipe {

// Takes a file's text piece by piece.
using TextSink = std::function<void(std::string_view)>;

// The text `produce` hands its sink, written to `path` through an AtomicFile in chunks of
// 64 KiB, so the file's whole text is never in memory. Throws like write_file_atomically (one
// line naming the file and the cause); what `produce` throws leaves no file either.
void write_streamed_file_atomically(const std::filesystem::path& path,
                                    const std::function<void(const TextSink&)>& produce);

// dump_json(value, indent) (pipeline/json_text.h) handed to `write` piece by piece (a key, a
// number or string, the punctuation between), without the copy of the whole value dump_json
// makes: for reports that grow with a batch's files. `depth`: the value sits that many levels
// deep in a larger document, so its inner lines are indented for it. An object's keys come in
// their own order, which is dump_json's except where a key is not valid UTF-8 (dump_json
// sorts those escaped).
void stream_json(const nlohmann::json& value, int indent, const TextSink& write, int depth = 0);
// A string, and an integer, as dump_json writes them, handed to `write` without a JSON value
// made for them: for writers that lay out records of their own.
void stream_json_string(std::string_view text, const TextSink& write);
void stream_json_integer(std::int64_t value, const TextSink& write);
void stream_json_integer(std::uint64_t value, const TextSink& write);

// stream_json(value, indent) and a line break, written to `path` through
// write_streamed_file_atomically.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& value, int indent);

}  // namespace framepipe
