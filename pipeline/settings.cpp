#include "pipeline/settings.h"

#include <type_traits>
#include <utility>

#include "pipeline/config.h"

namespace framepipe {

namespace {

// A setting kept in the Config field `field` returns: an int, bool or string, or a list of
// strings. `field` takes a Config& or const Config& (a generic lambda) and returns a reference.
template <typename Field>
SettingSpec bound(ParamSpec spec, Field field, std::string if_empty = "") {
  using T = std::remove_cvref_t<decltype(field(std::declval<Config&>()))>;
  SettingSpec setting;
  setting.spec = std::move(spec);
  setting.list = std::is_same_v<T, std::vector<std::string>>;
  setting.if_empty = std::move(if_empty);
  setting.assign = [field](Config& config, const std::vector<ParamValue>& values) {
    auto& target = field(config);
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      target.clear();
      for (const auto& value : values) target.push_back(std::get<std::string>(value));
    } else if constexpr (std::is_same_v<T, int>) {
      target = static_cast<int>(std::get<std::int64_t>(values.front()));
    } else {
      target = std::get<T>(values.front());
    }
  };
  setting.value = [field](const Config& config) { return nlohmann::ordered_json(field(config)); };
  return setting;
}

SettingSpec isolation_setting() {
  SettingSpec setting;
  setting.spec = ParamSpec::choice(
      "isolation", {"thread", "process"}, "thread",
      "how a batch runs each file: `thread`, on one of its threads (a crash in a library, e.g. a "
      "SIGSEGV on a hostile file, ends the whole batch); `process`, in a worker process (each of "
      "the `files_in_parallel` threads keeps one for its files and starts a new one after a "
      "crash), so a crash fails that file alone, with one line naming the stage, frame and "
      "signal, and the batch goes on. Each worker gets an equal share of `threads` and "
      "`max_frames_in_flight` (at least 1); what it costs per file: "
      "[bench/RESULTS.md](../bench/RESULTS.md). A single file always runs in-process");
  setting.assign = [](Config& config, const std::vector<ParamValue>& values) {
    config.isolation =
        std::get<std::string>(values.front()) == "process" ? Isolation::process : Isolation::thread;
  };
  setting.value = [](const Config& config) {
    return nlohmann::ordered_json(config.isolation == Isolation::process ? "process" : "thread");
  };
  return setting;
}

SettingSpec input_kind_setting() {
  static const std::vector<std::pair<std::string, InputKind>> kinds = {
      {"auto", InputKind::any}, {"video", InputKind::video}, {"image", InputKind::image}};
  SettingSpec setting;
  setting.spec = ParamSpec::choice(
      "kind", {"auto", "video", "image"}, "auto",
      "which of a folder's matching files are inputs: `auto`, videos and images; `video`, none "
      "whose name is an image's (`*.jpg`, `*.jpeg`, `*.png`, `*.bmp`, `*.tif`, `*.tiff`, "
      "`*.webp`); `image`, only those. An image is one picture, decoded as `cv::imread` decodes "
      "it (EXIF orientation included) and written by an image sink under its own name and "
      "format; a sink that writes a video refuses images before the run starts "
      "([images](#images))");
  setting.assign = [](Config& config, const std::vector<ParamValue>& values) {
    const auto& name = std::get<std::string>(values.front());
    for (const auto& [text, kind] : kinds) {
      if (text == name) config.input_selection.kind = kind;
    }
  };
  setting.value = [](const Config& config) {
    for (const auto& [text, kind] : kinds) {
      if (kind == config.input_selection.kind) return nlohmann::ordered_json(text);
    }
    return nlohmann::ordered_json("auto");
  };
  return setting;
}

std::vector<SettingsSection> make_settings() {
  // The order of each section's keys is config_json()'s, which config_fingerprint() hashes:
  // reordering them would make --resume redo every file of an earlier run.
  return {
      {"pipeline",
       {bound(
            ParamSpec::string("name", "pipeline", "a label for the run, shown in its report"),
            [](auto& c) -> auto& { return c.name; }),
        bound(
            ParamSpec::integer("threads", 0,
                               "size of the oneTBB arena the `cpu` stages run in; `0` = all "
                               "cores")
                .range(0, 1024),
            [](auto& c) -> auto& { return c.threads; }),
        bound(
            ParamSpec::integer("max_frames_in_flight", 16,
                               "at most this many frames exist at once (the source waits for a "
                               "free slot); bounds memory whatever the video's length")
                .range(1, 100000),
            [](auto& c) -> auto& { return c.max_frames_in_flight; }),
        bound(
            ParamSpec::boolean("profile", true,
                               "record every stage call, sample the run and write the report; "
                               "`false` attaches no profiler: the terminal table shows frames, "
                               "items, fps and latency, without times"),
            [](auto& c) -> auto& { return c.profile; }),
        bound(
            ParamSpec::integer("files_in_parallel", 1,
                               "a batch processes this many files at once, in one oneTBB arena "
                               "and one frames-in-flight budget; times the io stages' summed "
                               "`concurrency` (their threads per file) at most 4096")
                .range(1, 64),
            [](auto& c) -> auto& { return c.files_in_parallel; }),
        isolation_setting(),
        bound(
            ParamSpec::boolean("rewrites", true,
                               "let the engine reorder stages where the output stays the same up "
                               "to rounding ([graph rewrites](#graph-rewrites)); `false` runs "
                               "the stages exactly as listed"),
            [](auto& c) -> auto& { return c.rewrites; })},
       "### Graph rewrites\n\n"
       "With `rewrites: true` the engine moves a stage where the stages' declared arithmetic "
       "says the output stays the same up to rounding, and names each move in `validate "
       "--effective` (as comments), the terminal summary and the report (`rewrites` in "
       "report.json, the findings of report.html). The effective config keeps the stages in the "
       "order written. The one rewrite so far:\n\n"
       "- `gray_before_filter`: a per-pixel linear map to gray that reads a channel-wise linear "
       "filter feeding nothing else runs before that filter, which then works on one channel "
       "instead of three; straight after the source, the gray may come from the decoded "
       "picture's luma plane with no BGR picture at all. Which stages declare these properties: "
       "their summaries in [stages.md](stages.md). Both orders compute the same weighted sums; "
       "the outputs differ by rounding: 50 dB PSNR on the test clip. An edge map found on the "
       "result moves a few edge pixels (0.3% of the pixels on that clip), as any rounding "
       "change does at an edge detector's thresholds; [bench/RESULTS.md](../bench/RESULTS.md). A "
       "stage "
       "between the two, or another consumer of the filter, keeps the order."},
      {"input",
       {bound(
            ParamSpec::string("path", "",
                              "a video, an image, an `http://` / `https://` URL "
                              "([network.md](network.md)), "
                              "`-` (or `pipe:0`) for standard input, "
                              "or a folder to process as a batch (overridden by `--input`; "
                              "`--input-list FILE` or `-` reads paths and URLs from a file or "
                              "stdin instead)"),
            [](auto& c) -> auto& { return c.input_path; }),
        bound(
            ParamSpec::string("include", "",
                              "globs (case-insensitive) a folder's files must match"),
            [](auto& c) -> auto& { return c.input_selection.include; }),
        bound(
            ParamSpec::string("exclude", "", "globs of a folder's files to leave out"),
            [](auto& c) -> auto& { return c.input_selection.exclude; }),
        bound(
            ParamSpec::boolean("recursive", true,
                               "look into subfolders (hidden ones and hidden files are never "
                               "inputs)"),
            [](auto& c) -> auto& { return c.input_selection.recursive; }),
        input_kind_setting(),
        bound(
            ParamSpec::number("start", 0,
                              "seconds into each input where the run starts (`--start`); the "
                              "source seeks to the keyframe before and skips to it")
                .range(0, 1e7),
            [](auto& c) -> auto& { return c.input_window.start_s; }),
        bound(
            ParamSpec::number("duration", 0,
                              "seconds of each input the run covers from `start` "
                              "(`--duration`); `0`: to the end")
                .range(0, 1e7),
            [](auto& c) -> auto& { return c.input_window.duration_s; }),
        bound(
            ParamSpec::integer("frames", 0,
                               "at most this many frames of each input (`--frames`); `0`: all")
                .range(0, std::int64_t{1} << 40),
            [](auto& c) -> auto& { return c.input_window.frames; }),
        bound(
            ParamSpec::number("fps", 0,
                              "frames per second of an image sequence given as the input "
                              "(`frames/%06d.png`, `frames/*.png`); `0`: libav's 25. Other "
                              "inputs keep their own rate")
                .range(0, 1000),
            [](auto& c) -> auto& { return c.sequence_fps; }),
        bound(
            ParamSpec::integer("sample_files", 0,
                               "a batch runs only this many of its files, spread evenly over "
                               "their sorted list (`--sample-files`); `0`: all")
                .range(0, 1000000),
            [](auto& c) -> auto& { return c.sample_files; })},
       "`input: clip.mp4` is short for `input: { path: clip.mp4 }`, and `input: { sequence: { "
       "pattern: \"frames/%06d.png\", fps: 25 } }` for `input: { path: \"frames/%06d.png\", "
       "fps: 25 }`: an image sequence, numbered or a glob ([sequences](#images)). `start`, "
       "`duration` and "
       "`frames` run a part of each input, e.g. to profile or tune on a sample of a long video; "
       "a file's report then counts only that part."},
      {"output",
       {bound(
            ParamSpec::string("dir", "out",
                              "folder the sinks and the batch manifest write into (overridden "
                              "by `--output`); created when missing; `.` for the current folder"),
            [](auto& c) -> auto& { return c.output_dir; }, "use . for the current folder"),
        bound(
            ParamSpec::boolean("overwrite", false,
                               "replace existing outputs; otherwise a sink whose output exists "
                               "fails before any frame is decoded, and an output never replaces "
                               "a file that appears while it is written"),
            [](auto& c) -> auto& { return c.overwrite; })},
       ""},
      {"report",
       {bound(
            ParamSpec::string("dir", "",
                              "folder the report files go to (overridden by `--report-dir`); "
                              "empty: `<output.dir>/report`; `{run}` in it is the run's start "
                              "time, `20261201-221503` (`-2`, `-3`… when that folder exists), "
                              "so runs keep their reports side by side; shard K of N (`--shard`, "
                              "[distributed.md](distributed.md)) writes into its `shard-K-of-N/` "
                              "subfolder"),
            [](auto& c) -> auto& { return c.report_dir; }),
        bound(
            ParamSpec::choice("formats", {"json", "html", "trace"}, "json",
                              "which of `report.json`, `report.html`, `trace.json` to write; "
                              "`[]` for none"),
            [](auto& c) -> auto& { return c.report_formats; })},
       "See [report.md](report.md)."}};
}

std::string type_text(const SettingSpec& setting) {
  if (!setting.list) return setting.spec.expectation();
  return setting.spec.type == ParamType::string ? "a list of strings"
                                                : "a list, each " + setting.spec.expectation();
}

// `[ "*.mp4", "*.mkv" ]` as `["*.mp4", "*.mkv"]`; a scalar as YAML writes it.
std::string default_text(const nlohmann::ordered_json& value) {
  if (value.is_string())
    return value.get<std::string>().empty() ? "\"\"" : value.get<std::string>();
  if (!value.is_array()) return value.dump();
  std::string text = "[";
  for (std::size_t i = 0; i < value.size(); ++i) text += (i ? ", " : "") + value[i].dump();
  return text + "]";
}

}  // namespace

std::vector<std::string> SettingsSection::key_names() const {
  std::vector<std::string> names;
  for (const auto& key : keys) names.push_back(key.spec.name);
  return names;
}

const std::vector<SettingsSection>& engine_settings() {
  static const std::vector<SettingsSection> settings = make_settings();
  return settings;
}

std::string settings_markdown() {
  const Config defaults;
  std::string text;
  for (const auto& section : engine_settings()) {
    text += "## `" + section.name + "`\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const auto& key : section.keys) {
      text += "| `" + key.spec.name + "` | " + type_text(key) + " | `" +
              default_text(key.value(defaults)) + "` | " + key.spec.help + " |\n";
    }
    if (!section.note.empty()) text += "\n" + section.note + "\n";
    text += "\n";
  }
  return text;
}

std::string settings_text() {
  const Config defaults;
  std::string text;
  for (const auto& section : engine_settings()) {
    for (const auto& key : section.keys) {
      text += section.name + "." + key.spec.name + "  (" + type_text(key) + "; default " +
              default_text(key.value(defaults)) + ")\n    " + key.spec.help + "\n";
    }
  }
  return text;
}

}  // namespace framepipe
