#include "pipeline/inputs.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "pipeline/sequence_pattern.h"

namespace framepipe {

namespace {

// std::filesystem::path's order, component by component ("a/b" before "a-c"), on the text: a
// separator sorts before every other character. The paths are held as text to keep a batch's
// per-file memory small.
bool in_path_order(const std::string& a, const std::string& b) {
  const auto rank = [](char c) { return c == '/' ? 0U : static_cast<unsigned char>(c) + 1U; };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](char x, char y) { return rank(x) < rank(y); });
}

bool matches_any(const std::vector<std::string>& globs, const std::string& name) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& glob) {
    return fnmatch(glob.c_str(), name.c_str(), FNM_CASEFOLD) == 0;
  });
}

}  // namespace

const std::vector<std::string>& video_globs() {
  static const std::vector<std::string> globs = {"*.mp4",  "*.mkv",  "*.avi", "*.mov",
                                                 "*.webm", "*.m4v",  "*.ts",  "*.mts",
                                                 "*.mpg",  "*.mpeg", "*.flv", "*.wmv"};
  return globs;
}

const std::vector<std::string>& image_globs() {
  static const std::vector<std::string> globs = {"*.jpg", "*.jpeg", "*.png", "*.bmp",
                                                 "*.tif", "*.tiff", "*.webp"};
  return globs;
}

std::vector<std::string> InputSelection::default_include() {
  auto globs = video_globs();
  globs.insert(globs.end(), image_globs().begin(), image_globs().end());
  return globs;
}

bool is_image_name(const std::string& path) {
  // A numbered sequence ("frames/%06d.png") is one video of many pictures.
  if (is_standard_input(path) || is_sequence_pattern(path)) return false;
  const auto name =
      is_url(path) ? url_file_name(path) : std::filesystem::path(path).filename().string();
  return !name.empty() && matches_any(image_globs(), name);
}

bool is_video_name(const std::string& name) { return matches_any(video_globs(), name); }

bool is_url(const std::string& path) {
  const auto scheme_end = path.find("://");
  return scheme_end != std::string::npos && scheme_end > 0 &&
         std::all_of(
             path.begin(), path.begin() + static_cast<std::ptrdiff_t>(scheme_end),
             [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+'; });
}

bool is_standard_input(const std::string& path) {
  return path == "-" || path == "pipe:" || path == "pipe:0";
}

std::string url_file_name(const std::string& url) {
  auto path = url.substr(url.find("://") + 3);
  path = path.substr(0, path.find_first_of("?#"));
  const auto slash = path.find('/');
  if (slash == std::string::npos) return "";
  path.erase(0, slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path.substr(path.rfind('/') + 1);
}

std::filesystem::path output_folder_of(const std::filesystem::path& output_dir,
                                       const BatchInput& input) {
  return output_dir / std::filesystem::path(input.relative).parent_path();
}

std::vector<BatchInput> find_inputs(const std::filesystem::path& folder,
                                    const InputSelection& selection) {
  namespace fs = std::filesystem;
  std::vector<BatchInput> inputs;
  std::error_code error;
  // A matching name that is not a folder is an input even when it is no regular file (a FIFO,
  // a dangling link, a symlink loop): its run then fails alone, with its name and the reason,
  // instead of the file vanishing from the batch or its status ending the scan.
  auto is_folder = [](const fs::directory_entry& entry) {
    std::error_code ignored;
    return entry.is_directory(ignored);
  };
  auto consider = [&](const fs::directory_entry& entry) {
    const auto name = entry.path().filename().string();
    if (is_folder(entry) || name.starts_with(".")) return;
    if (!matches_any(selection.include, name) || matches_any(selection.exclude, name)) return;
    if (selection.kind != InputKind::any &&
        matches_any(image_globs(), name) != (selection.kind == InputKind::image))
      return;
    inputs.push_back({entry.path(), entry.path().lexically_relative(folder)});
  };
  if (selection.recursive) {
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied,
                                        error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (is_folder(*it) && it->path().filename().string().starts_with(".")) {
        it.disable_recursion_pending();
        continue;
      }
      consider(*it);
    }
  } else {
    for (fs::directory_iterator it(folder, error); !error && it != fs::directory_iterator();
         it.increment(error)) {
      consider(*it);
    }
  }
  if (error)
    throw std::runtime_error("cannot read folder '" + folder.string() + "': " + error.message());
  std::sort(inputs.begin(), inputs.end(), [](const BatchInput& a, const BatchInput& b) {
    return in_path_order(a.relative, b.relative);
  });
  return inputs;
}

std::vector<BatchInput> read_input_list(std::istream& list, const std::filesystem::path& base) {
  std::vector<BatchInput> inputs;
  for (std::string line; std::getline(list, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (is_url(line)) {
      inputs.push_back({line, url_file_name(line)});
      continue;
    }
    std::filesystem::path path(line);
    if (path.is_relative()) path = base / path;
    inputs.push_back({path, path.filename()});
  }
  return inputs;
}

std::vector<BatchInput> sample_inputs(const std::vector<BatchInput>& inputs, std::size_t count) {
  if (count == 0 || count >= inputs.size()) return inputs;
  std::vector<BatchInput> sample;
  for (std::size_t part = 0; part < count; ++part) {
    sample.push_back(inputs[(2 * part + 1) * inputs.size() / (2 * count)]);
  }
  return sample;
}

}  // namespace framepipe
