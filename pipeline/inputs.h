#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace framepipe {

// One file of a batch, and where it sits relative to the batch's root: its outputs go to the
// same relative folder under output.dir, so the output tree mirrors the input tree. Held as
// text: a std::filesystem::path keeps a list of its components besides, and a batch of many
// small images keeps one of these per file to its end.
struct BatchInput {
  std::string path;
  std::string relative;
};

// The folder under `output_dir` that `input`'s outputs go to: its relative folder there.
std::filesystem::path output_folder_of(const std::filesystem::path& output_dir,
                                       const BatchInput& input);

// The globs of the file names a folder's listing takes by default: videos, and still images
// (decoded as one picture each, and written by image sinks under their own names).
const std::vector<std::string>& video_globs();
const std::vector<std::string>& image_globs();

// Whether `path` (a file, or a URL's last path segment) names a still image by its extension:
// it matches one of image_globs(). Known from the name alone, before anything is opened.
bool is_image_name(const std::string& path);
// Whether a file name ends like a video's: matches one of video_globs().
bool is_video_name(const std::string& name);

// `input.kind`: which of a folder's matching files are inputs.
enum class InputKind { any, video, image };

struct InputSelection {
  std::vector<std::string> include = default_include();
  std::vector<std::string> exclude;
  bool recursive = true;
  InputKind kind = InputKind::any;  // video: no image names; image: only image names

  // video_globs() then image_globs().
  static std::vector<std::string> default_include();
};

// The files under `folder` whose names match an include glob and no exclude glob, and are of
// the selection's kind, sorted by relative path. Hidden files (names starting with '.', like
// framepipe's partial outputs) are never inputs; a matching name that is no regular file (a FIFO)
// is listed, so its run fails with its name. Throws std::runtime_error if the folder is unreadable.
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
