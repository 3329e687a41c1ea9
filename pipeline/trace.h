#pragma once

// trace.json in the Chrome Trace Event format: one track per thread, one slice per stage call
// kept, counters for queue depths and frames in flight (docs/report.md). Opens in Perfetto.
#include <filesystem>
#include <functional>
#include <string_view>

#include "pipeline/run.h"

namespace framepipe {

// Hands trace.json's text to `write` piece by piece, an event at a time, so that writing it
// takes memory for one event, not for a tree of all of them (a run over thousands of images
// keeps tens of thousands of calls). build_trace() (pipeline/report.h) parses this text.
void stream_trace(const RunResult& result, const std::function<void(std::string_view)>& write);

// Writes trace.json (stream_trace's text and a line break) to `path` through an AtomicFile,
// in chunks (write_streamed_file_atomically). Throws one line naming the file and the cause.
void write_trace_file(const std::filesystem::path& path, const RunResult& result);

}  // namespace framepipe
