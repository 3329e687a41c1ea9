#include "pipeline/output_names.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include "pipeline/batch.h"
#include "pipeline/sequence_pattern.h"
#include "pipeline/text_format.h"

namespace framepipe {

namespace fs = std::filesystem;

namespace {

// An absolute path with symlinks of its existing part resolved: two spellings of one place
// compare equal.
fs::path canonical_form(const fs::path& path) {
  std::error_code error;
  auto result = fs::weakly_canonical(fs::absolute(path), error);
  return error ? fs::absolute(path).lexically_normal() : result;
}

using FileIdentity = std::pair<dev_t, ino_t>;

// A file's identity (device and inode), when it exists: a hard link is the same file.
std::optional<FileIdentity> identity(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  return FileIdentity{info.st_dev, info.st_ino};
}

// True when `path` is `folder` or inside it.
bool inside(const fs::path& path, const fs::path& folder) {
  const auto relative = canonical_form(path).lexically_relative(canonical_form(folder));
  return !relative.empty() && *relative.begin() != "..";
}

// Where a path leads: its canonical_form and, when it exists, its identity.
struct Place {
  fs::path canonical;
  std::optional<FileIdentity> identity;
};

// The places of many paths in a few folders, as canonical_form and identity give them, for a
// batch of thousands of files: each folder is resolved once, and a name in it costs one lstat
// (weakly_canonical costs a stat and a readlink per component of every path). A symbolic link
// is resolved whole, as weakly_canonical would.
class Places {
 public:
  Place of(const fs::path& path) {
    const auto absolute = fs::absolute(path);
    const auto name = absolute.filename();
    struct stat info {};
    const bool exists = ::lstat(absolute.c_str(), &info) == 0;
    if (name.empty() || name == "." || name == ".." || (exists && S_ISLNK(info.st_mode))) {
      return {canonical_form(absolute), identity(absolute)};
    }
    const auto [folder, fresh] = folders_.try_emplace(absolute.parent_path());
    if (fresh) folder->second = canonical_form(folder->first);
    std::optional<FileIdentity> id;
    if (exists) id = FileIdentity{info.st_dev, info.st_ino};
    return {folder->second / name, id};
  }

 private:
  std::map<fs::path, fs::path> folders_;  // a folder and its canonical_form
};

struct Destination {
  fs::path path;
  std::string what;  // "'out/a.mp4' (stage 'video')", for messages
};

// Where one input's outputs and report would go.
std::vector<Destination> destinations(const Config& config, const BatchInput& input, bool batch) {
  std::vector<Destination> found;
  const auto output_dir =
      batch ? output_folder_of(config.output_dir, input) : fs::path(config.output_dir);
  const bool image = is_image_name(input.path);
  for (const auto& stage : config.stages) {
    if (!stage.info->output_names) continue;
    const auto& names = image && stage.info->image_output_names ? stage.info->image_output_names
                                                                : stage.info->output_names;
    for (const auto& pattern : names(stage.params)) {
      try {
        const auto path =
            output_dir / expand_output_name(input.path, pattern, stage.name, output_dir);
        // Appended, not added: GCC 12 warns falsely (-Wrestrict, its bug 105329) on the
        // inserts that operator+ makes once a unity build inlines them.
        std::string what = "'";
        what.append(path.string()).append("' (stage '").append(stage.name).append("')");
        found.push_back({path, std::move(what)});
      } catch (const std::runtime_error&) {
        // A name that leaves the output folder fails its own file when it runs, with its reason.
      }
    }
  }
  // Images run as items of one graph have no report folder of their own.
  if (batch && config.profile && !config.report_formats.empty() && !runs_as_item(config, input)) {
    const auto report = batch_report_root(config) / input.relative;
    found.push_back({report, "the report folder '" + report.string() + "'"});
  }
  return found;
}

// "stage 'video' writes a video ('a-edges.mp4')" when a sink would write a video for the image
// `input` (its output name for it ends like a video's).
std::optional<std::string> video_sink_for(const Config& config, const BatchInput& input) {
  for (const auto& stage : config.stages) {
    if (!stage.info->output_names || stage.info->image_output_names) continue;
    for (const auto& pattern : stage.info->output_names(stage.params)) {
      try {
        const auto name = expand_output_name(input.path, pattern, stage.name, config.output_dir)
                              .filename()
                              .string();
        if (is_video_name(name))
          return "stage '" + stage.name + "' writes a video ('" + name + "')";
      } catch (const std::runtime_error&) {
        // A name that leaves the output folder fails its own file when it runs.
      }
    }
  }
  return std::nullopt;
}

// One picture made into a one-frame clip is never what a user wants: one line for all the image
// inputs a video sink would get, naming the first.
std::optional<std::string> images_into_video(const Config& config,
                                             const std::vector<BatchInput>& inputs) {
  std::size_t images = 0;
  std::string first;
  for (const auto& input : inputs) {
    if (!is_image_name(input.path)) continue;
    const auto sink = video_sink_for(config, input);
    if (!sink) continue;
    if (images++ == 0) first = "'" + input.path + "' is an image, but " + *sink;
  }
  if (images == 0) return std::nullopt;
  const auto more =
      images > 1 ? " (and " + std::to_string(images - 1) + " more images)" : std::string();
  return first + more +
         ": a picture is not made into a one-frame clip; write images with a sink that writes "
         "images (e.g. configs/photos-web.yaml), or leave them out of a folder with "
         "input.kind: video";
}

}  // namespace

const std::vector<std::string>& output_name_fields() {
  static const std::vector<std::string> fields = {"{stem}", "{ext}", "{stage}"};
  return fields;
}

std::vector<std::string> unknown_name_fields(const std::string& pattern,
                                             const std::vector<std::string>& stage_fields) {
  const auto& engine_fields = output_name_fields();
  std::vector<std::string> unknown;
  for (auto open = pattern.find('{'); open != std::string::npos; open = pattern.find('{', open)) {
    const auto close = pattern.find('}', open);
    if (close == std::string::npos) {
      unknown.push_back("{");
      break;
    }
    const auto field = pattern.substr(open, close + 1 - open);
    const auto name = field.substr(1, std::min(field.find(':'), field.size() - 1) - 1);
    const bool known =
        std::find(engine_fields.begin(), engine_fields.end(), field) != engine_fields.end() ||
        std::find(stage_fields.begin(), stage_fields.end(), name) != stage_fields.end();
    if (!known) unknown.push_back(field);
    open = close + 1;
  }
  return unknown;
}

fs::path expand_output_name(const std::string& input_path, const std::string& pattern,
                            const std::string& stage_name, const fs::path& output_dir) {
  const fs::path input(is_standard_input(input_path) ? kStandardInputStem
                       : is_url(input_path)          ? url_file_name(input_path)
                                                     : input_path);
  auto extension = input.extension().string();
  if (!extension.empty()) extension.erase(0, 1);
  const auto stem =
      is_sequence_pattern(input_path) ? sequence_stem(input_path) : input.stem().string();
  auto name = replace_all(pattern, "{stem}", stem);
  name = replace_all(name, "{ext}", extension);
  name = replace_all(name, "{stage}", stage_name);
  const auto relative = fs::path(name).lexically_normal();
  if (relative.is_absolute() || relative.empty() || *relative.begin() == "..") {
    throw std::runtime_error("output name '" + name + "' (from '" + pattern +
                             "') is outside the output folder '" + output_dir.string() +
                             "'; outputs stay under output.dir");
  }
  return relative;
}

std::vector<std::string> check_output_paths(const Config& config,
                                            const std::vector<BatchInput>& inputs, bool batch,
                                            const std::optional<fs::path>& scanned_folder) {
  std::vector<std::string> problems;
  if (scanned_folder && inside(config.output_dir, *scanned_folder)) {
    problems.push_back("output.dir '" + config.output_dir + "' is inside the input folder '" +
                       scanned_folder->string() +
                       "': its files would become inputs of the next run; choose an output "
                       "folder outside it");
  }
  if (const auto problem = images_into_video(config, inputs)) problems.push_back(*problem);
  // The inputs by path and by identity, to find an output that would replace one. Keyed by
  // the canonical forms' text: a path's list of components would cost hundreds of bytes for
  // each of a folder's thousands of images, and canonical forms compare equal as text.
  Places places;
  std::unordered_map<std::string, const BatchInput*> input_paths;
  std::map<FileIdentity, const BatchInput*> input_files;
  for (const auto& input : inputs) {
    if (is_url(input.path) || is_standard_input(input.path)) continue;
    auto place = places.of(input.path);
    input_paths.emplace(place.canonical.native(), &input);
    if (place.identity) input_files.emplace(*place.identity, &input);
  }
  std::unordered_map<std::string, const BatchInput*> owners;
  for (const auto& input : inputs) {
    for (const auto& destination : destinations(config, input, batch)) {
      const auto place = places.of(destination.path);
      const auto& key = place.canonical.native();
      const auto [owner, fresh] = owners.emplace(key, &input);
      if (!fresh && owner->second != &input) {
        // std::string first, for GCC 12's false -Wrestrict (see destinations()).
        problems.push_back(std::string("'") + owner->second->path + "' and '" + input.path +
                           "' would both write " + destination.what +
                           ": one would replace the other; name outputs apart (e.g. {ext} in "
                           "the path template) or rename an input");
      }
      const BatchInput* replaced = nullptr;
      if (const auto it = input_paths.find(key); it != input_paths.end()) replaced = it->second;
      if (place.identity && !replaced) {
        if (const auto it = input_files.find(*place.identity); it != input_files.end()) {
          replaced = it->second;
        }
      }
      if (replaced) {
        problems.push_back(destination.what + " is the input '" + replaced->path +
                           "': an output cannot replace an input; choose another output "
                           "folder or path template");
      }
    }
  }
  return problems;
}

}  // namespace framepipe
