// `framepipe run` over a folder or a list of files: the batch, its progress and its summary.
#include <spdlog/spdlog.h>

#include <future>
#include <optional>
#include <system_error>

#include "app/commands.h"
#include "app/progress.h"
#include "pipeline/batch.h"
#include "pipeline/batch_resume.h"
#include "pipeline/json_text.h"
#include "pipeline/manifest.h"
#include "pipeline/safe_text.h"
#include "pipeline/shard.h"
#include "pipeline/streamed_file.h"

namespace framepipe::app {

namespace {

std::string file_line(const FileOutcome& file) {
  return file.status + ": " + safe_line(file.input.path) + " (" + std::to_string(file.frames) +
         " frames" +
         (file.damaged_packets > 0
              ? ", " + std::to_string(file.damaged_packets) + " damaged packets skipped"
              : "") +
         ")";
}

}  // namespace

int finish_batch(const Config& config, BatchReport report, bool resume) {
  // --resume changes the per-file entries: it takes the whole tree (a resumed batch is the one
  // that skips most files). Otherwise the files are written straight from the result.
  if (resume) {
    auto tree = batch_report_tree(report);
    keep_earlier_entries(tree, read_earlier_batch(batch_report_root(config)));
    report = BatchReport{std::move(tree), nullptr, {}};
  }
  const auto& batch = report.head;
  const auto& totals = batch["totals"];
  std::printf(
      "batch: %d files: %d ok, %d damaged, %d failed, %d skipped, %d cancelled; %lld "
      "frames in %.2f s = %.1f fps\n",
      totals["files"].get<int>(), totals["ok"].get<int>(), totals["damaged"].get<int>(),
      totals["failed"].get<int>(), totals["skipped"].get<int>(), totals["cancelled"].get<int>(),
      totals["frames"].get<long long>(), totals["wall_s"].get<double>(),
      totals["fps"].get<double>());
  if (config.profile) {
    const auto report_root = batch_report_root(config);
    try {
      std::filesystem::create_directories(report_root);
      // The two pages of a large batch take tens of milliseconds each once every file has
      // ended: written side by side, on the cores the files no longer use. Both only read
      // `report`; a thrown error still waits for the other page (the future's destructor).
      std::future<void> html;
      try {
        html = std::async(std::launch::async,
                          [&] { write_batch_html(report_root / "batch.html", report); });
      } catch (const std::system_error&) {  // no thread to spare: one after the other
      }
      write_batch_json(report_root / "batch.json", report);
      if (html.valid()) {
        html.get();
      } else {
        write_batch_html(report_root / "batch.html", report);
      }
      std::printf("report: %s\n", safe_line((report_root / "batch.html").string()).c_str());
    } catch (const std::exception& e) {
      spdlog::error("{}: cannot write the batch report: {}", report_root.string(), e.what());
    }
  }
  std::fflush(stdout);
  if (batch["cancelled"].get<bool>()) return kCancelled;
  return totals["failed"].get<int>() > 0 ? kRunFailed : kOk;
}

int run_local_batch(const Config& config, std::vector<BatchInput> inputs, const RunOptions& options,
                    const std::string& manifest_name, const nlohmann::json& extra) {
  BatchProgress progress(!options.quiet || options.progress_stream != nullptr);
  BatchOptions batch_options;
  batch_options.resume = options.resume;
  batch_options.cancel = &cancel_requested();
  batch_options.progress = &progress;
  batch_options.manifest_name = manifest_name;
  BatchResult result;
  {
    ProgressDisplay display(ProgressMeter(progress), options.quiet, options.progress_stream);
    batch_options.on_file_done = [&](const FileOutcome& file) {
      if (file.status == "failed") {
        display.print(file.error, true);
      } else if (options.verbose || file.status == "damaged") {
        display.print(file_line(file), false);
      }
    };
    result = run_batch(config, std::move(inputs), batch_options);
    run_stopped();
    display.finish(result.cancelled ? "cancelled" : result.count("failed") > 0 ? "failed" : "ok");
  }
  auto report = batch_report(config, result);
  report.head.update(extra);
  const int code = finish_batch(config, std::move(report), options.resume);
  if (result.manifest_error.empty()) return code;
  spdlog::error("{}; {} completed file(s) are not recorded in it, so --resume would redo them",
                result.manifest_error, result.unrecorded);
  return code == kOk ? kRunFailed : code;
}

int run_batch_command(const Config& config, std::vector<BatchInput> inputs,
                      const RunOptions& options) {
  // One list of the inputs, the batch's own, and no copies of it: a folder of thousands of
  // images would hold each copy through the whole run.
  const auto all_count = inputs.size();
  if (config.sample_files > 0 && static_cast<std::size_t>(config.sample_files) < all_count) {
    inputs = sample_inputs(inputs, static_cast<std::size_t>(config.sample_files));
  }
  if (inputs.size() < all_count && !options.quiet) {
    spdlog::info("a sample of {} of the {} files (input.sample_files)", inputs.size(), all_count);
  }
  std::optional<Shard> shard;
  try {
    shard = resolve_shard(options.shard, options.shard_count,
                          [](const std::string& name) -> std::optional<std::string> {
                            const char* value = std::getenv(name.c_str());
                            return value ? std::optional<std::string>(value) : std::nullopt;
                          });
  } catch (const ShardError& e) {
    spdlog::error("{}", e.what());
    return kConfigError;
  }
  // An unreadable manifest stops a resume before anything runs, on every MPI rank alike.
  if (options.resume) {
    try {
      const Manifest check(config.output_dir, "", true);
    } catch (const ManifestError& e) {
      spdlog::error("{}", e.what());
      return kRunFailed;
    }
  }
  Config shard_config = config;
  nlohmann::json extra = nlohmann::json::object();
  std::string name;
  if (shard) {
    const auto weights = file_weights(inputs);
    const auto assigned = assign_shards(weights.sizes, weights.keys, shard->count);
    std::vector<BatchInput> shard_inputs;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (assigned[i] == shard->index) shard_inputs.push_back(inputs[i]);
    }
    const auto of_files = inputs.size();
    inputs = std::move(shard_inputs);
    name = shard->name();
    // Each shard writes its own report; `framepipe report merge` joins them.
    shard_config.report_dir = (batch_report_root(config) / name).string();
    extra["shard"] = {{"index", shard->index},
                      {"count", shard->count},
                      {"name", name},
                      {"from", shard->source},
                      {"of_files", of_files}};
  }
  if (options.mpi) {
#ifdef FRAMEPIPE_HAVE_MPI
    return run_mpi_batch_command(shard_config, inputs, options, name, extra);
#else
    spdlog::error(
        "--mpi: this framepipe was built without MPI (install libopenmpi-dev and "
        "rebuild; docs/distributed.md)");
    return kConfigError;
#endif
  }
  return run_local_batch(shard_config, std::move(inputs), options, name, extra);
}

}  // namespace framepipe::app
