#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace framepipe::testing {

// Where generated media lives (the build tree's fixtures/ folder).
std::filesystem::path fixture_dir();

// A clip made once with the ffmpeg CLI: `ffmpeg -y <ffmpeg_args> <fixture_dir>/<name>`.
// Safe when several test processes ask for the same clip at once.
std::filesystem::path make_clip(const std::string& name, const std::string& ffmpeg_args);

// Runs a shell command and returns its standard output; throws when it exits non-zero.
std::string capture(const std::string& command);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a shell command and returns its exit code and output, whatever the exit code.
CommandResult run_shell(const std::string& command);

// Single-quotes a string for the shell.
std::string shell_quote(const std::string& text);

// The video frames' presentation timestamps as ffprobe reports them, in decode order.
std::vector<std::int64_t> ffprobe_pts(const std::filesystem::path& path);

// `ffprobe -show_entries ENTRIES -of csv=p=0` on the streams SELECT picks (all when empty), with
// EXTRA options before; the trailing line breaks and commas trimmed.
std::string probe(const std::string& path_or_url, const std::string& select,
                  const std::string& entries, const std::string& extra = "");
// The same, on the first video stream.
std::string probe_video(const std::string& path_or_url, const std::string& entries,
                        const std::string& extra = "");

// The average PSNR in dB of two videos or pictures, by the ffmpeg CLI's psnr filter (infinity
// when they are identical).
double psnr(const std::filesystem::path& a, const std::filesystem::path& b);

// The frames of the first video stream, as ffprobe counts them by decoding (a path or a URL).
std::int64_t frame_count(const std::string& path_or_url);

// A file's whole content, byte for byte ("" when it cannot be read).
std::string read_text(const std::filesystem::path& path);

// A JSON file, parsed (a report.json, a batch.json).
nlohmann::json read_json(const std::filesystem::path& path);

// A JSON Lines file, one parsed record per line.
std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path);

// The cores this process may run on (its CPU affinity).
int affinity_cores();

// A fresh empty folder under the system temp folder, removed by the caller.
std::filesystem::path make_temp_dir(const std::string& prefix);

}  // namespace framepipe::testing
