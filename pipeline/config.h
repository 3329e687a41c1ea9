#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/inputs.h"
#include "pipeline/params.h"
#include "pipeline/registry.h"
#include "pipeline/rewrite.h"

namespace framepipe {

// How many frames a stage works on at once: a number, or `unlimited` (as many as the
// oneTBB arena has threads and the frames-in-flight budget allows).
struct Concurrency {
  bool unlimited = false;
  int count = 1;
  std::string to_string() const { return unlimited ? "unlimited" : std::to_string(count); }
};

struct StageConfig {
  std::string name;
  std::string type;
  std::string input;  // the stage it consumes; empty for sources
  Concurrency concurrency;
  Params params;
  const StageInfo* info = nullptr;
};

// How a batch runs each file: on one of its threads, or in a worker process of its own
// (pipeline/isolated_file.h), so that a crash in a library fails that file alone.
enum class Isolation { thread, process };

struct Config {
  std::string origin;  // the config file, for messages
  std::string name = "pipeline";
  int threads = 0;  // oneTBB arena size; 0 = all cores
  int max_frames_in_flight = 16;
  bool profile = true;             // record every invocation and sample the run; off: totals only
  int files_in_parallel = 1;       // batch: files processed at once, sharing arena and budget
  std::string input_path;          // a file or a folder
  InputSelection input_selection;  // which files of a folder
  InputWindow input_window;        // the part of each input a run covers
  double sequence_fps = 0;         // input.fps: a numbered image sequence's rate; 0: libav's 25
  int sample_files = 0;            // a batch runs this many of its files, spread; 0: all
  std::string output_dir = "out";
  bool overwrite = false;
  std::string report_dir;  // empty: <output_dir>/report
  std::vector<std::string> report_formats = {"json", "html", "trace"};
  // The stages as they run: in the config's order unless a graph rewrite moved some.
  std::vector<StageConfig> stages;
  // Graph rewrites (pipeline/rewrite.h): allowed (pipeline.rewrites), and those made, in order.
  bool rewrites = true;
  std::vector<GraphRewrite> rewrites_made;
  // The stages in the config's own order and wiring when a rewrite moved some (empty when none
  // did): what config_json() writes, so the effective config reads as written and loads to the
  // same graph again.
  std::vector<StageConfig> written_stages;
  // Settings that are valid but cannot take effect on this machine (a stage's concurrency above
  // the threads that run it, pipeline.threads above the cores), one line each, with the place.
  std::vector<std::string> warnings;
  // A batch's files: each on one of its threads, or each in a worker process of its own.
  Isolation isolation = Isolation::thread;
};

// Every problem found in a config, each one line in the user's terms:
// "configs/x.yaml:14:5: stage 'blur' (type smooth): 'sigma' must be a number > 0, got '-1'".
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// `overrides` are "a.b.c=value" strings (from --set), applied before validation. A stage is
// addressed by its name: "stages.blur.params.sigma=3". Throws ConfigError with every problem,
// in the order of the file, then those of --set; a file that is a video, an image or another
// binary file is named as such, not parsed.
Config load_config_file(const std::string& path, const std::vector<std::string>& overrides,
                        const Registry& registry);
Config load_config_text(const std::string& yaml, const std::string& origin,
                        const std::vector<std::string>& overrides, const Registry& registry);

// One stage entry ("{type: resize, params: {width: 64}}"), validated alone: for tests and
// tools that build a single stage. With `run_check` false the stage's own check (which may load
// a model) is skipped: only the entry's keys and each parameter's type and range are validated.
StageConfig load_stage_text(const std::string& yaml, const Registry& registry,
                            bool run_check = true);

// The config with every default filled in: exactly what will run.
nlohmann::ordered_json config_json(const Config& config);
std::string effective_yaml(const Config& config);

}  // namespace framepipe
