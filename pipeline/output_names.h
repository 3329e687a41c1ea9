#pragma once

// Where a run will write, known before anything is opened: output names from the sinks' name
// templates, and the checks a batch makes on them before it starts.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/inputs.h"

namespace framepipe {

// `pattern` for one input, relative to the output folder: {stem} = the input's file name (a
// URL's last path segment; "stdin" for standard input) without extension, {ext} = its extension
// without the dot (none for standard input), {stage} = the stage's name; other fields
// ({frame:06}) are left as they are. Throws std::runtime_error when the name would leave the
// output folder (`output_dir`, for the message): an absolute pattern, or '..' from the pattern
// or from {stem} (an input named '...mp4' has the stem '..').
std::filesystem::path expand_output_name(const std::string& input_path, const std::string& pattern,
                                         const std::string& stage_name,
                                         const std::filesystem::path& output_dir);

// The fields expand_output_name fills in, as written in a template: {stem}, {ext}, {stage}.
const std::vector<std::string>& output_name_fields();

// The fields of a name template that nothing fills in, which would be written literally
// ("{stm}" in "{stm}.mp4"): every {...} that is neither one of output_name_fields() nor one of
// the stage's own `stage_fields` ("frame" accepts {frame} and {frame:06}); "{" alone for a
// brace never closed.
std::vector<std::string> unknown_name_fields(const std::string& pattern,
                                             const std::vector<std::string>& stage_fields);

// Every problem with where `inputs` would be written under `config`, one line each, found from
// the sinks' StageInfo::output_names without opening any media:
// - two inputs whose outputs (or per-file report folders) would have the same path;
// - an output that is an input (the same path or the same file through a link);
// - an output or report folder inside `scanned_folder`, the folder a batch takes its inputs from
//   (its outputs would be inputs of the next run).
// `batch`: each input's outputs go under its relative folder and its report under its relative
// path, as run_batch does; otherwise (a single file) straight into the output and report folders.
std::vector<std::string> check_output_paths(
    const Config& config, const std::vector<BatchInput>& inputs, bool batch,
    const std::optional<std::filesystem::path>& scanned_folder = std::nullopt);

}  // namespace framepipe
