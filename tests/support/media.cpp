#include "tests/support/media.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace framepipe::testing {

std::filesystem::path fixture_dir() {
  std::filesystem::path dir = FRAMEPIPE_FIXTURE_DIR;
  std::filesystem::create_directories(dir);
  return dir;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string capture(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (status != 0)
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  return output;
}

CommandResult run_shell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::filesystem::path make_clip(const std::string& name, const std::string& ffmpeg_args) {
  const auto path = fixture_dir() / name;
  if (std::filesystem::exists(path)) return path;
  // Written under a per-process name, then renamed, so concurrent tests never see half a file.
  const auto partial = fixture_dir() / ("partial-" + std::to_string(getpid()) + "-" + name);
  capture("ffmpeg -nostdin -v error -y " + ffmpeg_args + " " + shell_quote(partial.string()));
  std::filesystem::rename(partial, path);
  return path;
}

std::int64_t frame_count(const std::string& path_or_url) {
  return std::stoll(
      capture("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
              "stream=nb_read_frames -of csv=p=0 " +
              shell_quote(path_or_url)));
}

std::string probe(const std::string& path_or_url, const std::string& select,
                  const std::string& entries, const std::string& extra) {
  auto text =
      capture("ffprobe -v error " + extra + (select.empty() ? "" : " -select_streams " + select) +
              " -show_entries " + entries + " -of csv=p=0 " + shell_quote(path_or_url));
  while (!text.empty() && (text.back() == '\n' || text.back() == ',')) text.pop_back();
  return text;
}

std::string probe_video(const std::string& path_or_url, const std::string& entries,
                        const std::string& extra) {
  return probe(path_or_url, "v:0", entries, extra);
}

double psnr(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto log = run_shell("ffmpeg -nostdin -hide_banner -i " + shell_quote(a.string()) + " -i " +
                             shell_quote(b.string()) + " -lavfi psnr -f null - 2>&1");
  const auto at = log.output.find("average:");
  if (at == std::string::npos) throw std::runtime_error("no PSNR in: " + log.output);
  // "inf" when identical, which std::stod reads as infinity.
  return std::stod(log.output.substr(at + 8));
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), {}};
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    throw std::runtime_error("sched_getaffinity failed");
  return CPU_COUNT(&set);
}

std::vector<std::int64_t> ffprobe_pts(const std::filesystem::path& path) {
  const auto text = capture(
      "ffprobe -v error -select_streams v:0 -show_entries "
      "frame=best_effort_timestamp -of csv=p=0 " +
      shell_quote(path.string()));
  std::vector<std::int64_t> pts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) pts.push_back(std::stoll(line));
  }
  return pts;
}

std::filesystem::path make_temp_dir(const std::string& prefix) {
  auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

}  // namespace framepipe::testing
