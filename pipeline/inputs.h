#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace framepipe {

// One file of a batch, and where it sits relative to the batch's root: its outputs go to the
// same relative folder under output.dir, so the output tree mirrors the input tree.
struct BatchInput {
  std::filesystem::path path;
  std::filesystem::path relative;
};

struct InputSelection {
  std::vector<std::string> include = {"*.mp4", "*.mkv", "*.avi", "*.mov",  "*.webm", "*.m4v",
                                      "*.ts",  "*.mts", "*.mpg", "*.mpeg", "*.flv",  "*.wmv"};
  std::vector<std::string> exclude;
  bool recursive = true;
};

// The files under `folder` whose names match an include glob and no exclude glob, sorted by
// relative path. Hidden files (names starting with '.', like framepipe's partial outputs) are
// never inputs. A matching name that is no regular file (a FIFO, a symlink loop) is listed, so
// that its run fails with its name. Throws std::runtime_error when the folder cannot be read.
std::vector<BatchInput> find_inputs(const std::filesystem::path& folder,
                                    const InputSelection& selection);

// `count` of the inputs, spread evenly over the list (the middle file of each of `count` equal
// parts), in their order; all of them when count is 0 or not below their number.
std::vector<BatchInput> sample_inputs(const std::vector<BatchInput>& inputs, std::size_t count);

// "scheme://…" (http://, https://, any libav protocol URL): read by libav, never a local file.
bool is_url(const std::string& path);
// The last segment of a URL's path, without query or fragment: "clip.mp4" for
// "http://host/videos/clip.mp4?token=1"; empty when the path is.
std::string url_file_name(const std::string& url);

// "-", "pipe:" or "pipe:0": the run reads its input from standard input (libav's pipe
// protocol), once, without seeking.
bool is_standard_input(const std::string& path);
// What {stem} in an output name becomes for an input read from standard input.
inline constexpr const char* kStandardInputStem = "stdin";

// One path or URL per line ('#' starts a comment, blank lines skipped); relative paths are
// taken from `base`. Each output goes under its file name alone (a URL's: the last segment of
// its path).
std::vector<BatchInput> read_input_list(std::istream& list, const std::filesystem::path& base);

}  // namespace framepipe
