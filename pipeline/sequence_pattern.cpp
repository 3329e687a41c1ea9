#include "pipeline/sequence_pattern.h"

#include <glob.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

#include "pipeline/inputs.h"

namespace framepipe {

namespace {

// Where the %d / %0Nd field of `name` starts and how long it is; npos when there is none.
std::pair<std::size_t, std::size_t> number_field(const std::string& name) {
  for (auto at = name.find('%'); at != std::string::npos; at = name.find('%', at + 1)) {
    auto end = at + 1;
    while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
    if (end < name.size() && name[end] == 'd') return {at, end + 1 - at};
  }
  return {std::string::npos, 0};
}

// The name `pattern` gives number `n`, as libav's av_get_frame_filename does for %d / %0Nd.
std::string numbered(const std::string& prefix, int digits, const std::string& suffix, long n) {
  char number[32];
  std::snprintf(number, sizeof number, "%0*ld", digits, n);
  return prefix + number + suffix;
}

// Where the glob characters of `name` start; npos when there are none.
std::size_t glob_start(const std::string& name) { return name.find_first_of("*?["); }

// What std::filesystem::path(path).filename() gives, without splitting the whole path into its
// components: this is asked of every input of a batch, and of every output name.
std::string file_name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

bool is_sequence_pattern(const std::string& path) {
  return number_field(file_name_of(path)).first != std::string::npos || is_sequence_glob(path);
}

bool is_sequence_glob(const std::string& path) {
  // A URL's query ("x.jpg?size=2") is not a glob.
  if (is_url(path)) return false;
  std::error_code error;
  return glob_start(file_name_of(path)) != std::string::npos &&
         !std::filesystem::exists(path, error);
}

std::size_t glob_matches(const std::string& pattern) {
  glob_t found{};
  const int result = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &found);
  const std::size_t count = result == 0 ? found.gl_pathc : 0;
  globfree(&found);
  return count;
}

std::string sequence_stem(const std::string& pattern) {
  const std::filesystem::path path(pattern);
  auto stem = path.stem().string();
  const auto [at, length] = number_field(stem);
  if (at != std::string::npos) stem.erase(at, length);
  if (is_sequence_glob(pattern)) stem.erase(std::min(glob_start(stem), stem.size()));
  const auto separator = [](char c) { return c == '-' || c == '_' || c == '.' || c == ' '; };
  while (!stem.empty() && separator(stem.back())) stem.pop_back();
  while (!stem.empty() && separator(stem.front())) stem.erase(0, 1);
  if (!stem.empty()) return stem;
  const auto folder = path.parent_path().filename().string();
  return folder.empty() || folder == "." || folder == ".." ? "sequence" : folder;
}

std::optional<std::string> sequence_gap(const std::string& pattern) {
  namespace fs = std::filesystem;
  const fs::path path(pattern);
  const auto name = path.filename().string();
  const auto [at, length] = number_field(name);
  if (at == std::string::npos) return std::nullopt;
  const auto prefix = name.substr(0, at);
  const auto suffix = name.substr(at + length);
  const int digits = length > 2 ? std::stoi(name.substr(at + 1, length - 2)) : 1;
  // Every number the folder's names give this pattern.
  std::set<long> numbers;
  std::error_code error;
  const auto folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  for (fs::directory_iterator it(folder, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    const auto file = it->path().filename().string();
    if (file.size() <= prefix.size() + suffix.size() || !file.starts_with(prefix) ||
        !file.ends_with(suffix))
      continue;
    const auto middle = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    if (middle.size() > 9 ||
        !std::all_of(middle.begin(), middle.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;
    const long n = std::stol(middle);
    if (numbered("", digits, "", n) == middle) numbers.insert(n);
  }
  if (numbers.empty()) return std::nullopt;
  // libav starts at the first of 0 to 4 that exists.
  auto first = numbers.begin();
  if (*first > 4) return std::nullopt;
  long expected = *first;
  for (auto it = first; it != numbers.end(); ++it, ++expected) {
    if (*it == expected) continue;
    const auto after = std::distance(it, numbers.end());
    const auto missing = (path.parent_path() / numbered(prefix, digits, suffix, expected)).string();
    return "'" + missing + "' is missing between " + numbered("", digits, "", expected - 1) +
           " and " + numbered("", digits, "", *it) + " (" + std::to_string(after) +
           " files after the gap)";
  }
  return std::nullopt;
}

}  // namespace framepipe
