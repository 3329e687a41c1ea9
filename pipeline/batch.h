#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/inputs.h"
#include "pipeline/run.h"
#include "pipeline/streamed_file.h"

namespace framepipe {

// What became of one file of a batch.
struct FileOutcome {
  BatchInput input;
  // ok: done; damaged: done, with damaged packets skipped within the budget; failed; skipped:
  // complete from an earlier run (--resume); cancelled: stopped by a signal, outputs removed.
  std::string status;
  std::string error;  // one line, for failed and cancelled files
  std::int64_t frames = 0;
  std::int64_t expected_frames = 0;  // from the container's header, 0 when unknown
  std::int64_t damaged_packets = 0;
  double wall_s = 0;
  // When it ran, in seconds since the batch started, and on which of the files_in_parallel
  // workers (0-based): the batch report's timeline of files across the parallel slots.
  int slot = 0;
  double start_s = 0;
  double end_s = 0;
  std::vector<std::string> outputs;  // as text: a batch keeps one outcome per file
  std::filesystem::path report_dir;  // its own report, when one was written
};

// One file of a batch as a progress display sees it: running, or finished with its status.
struct FileProgress {
  std::string input;
  std::string status;  // "running", or the outcome's status once finished
  std::int64_t frames = 0;
  std::int64_t expected_frames = 0;  // 0 when unknown (not opened yet, or the header is silent)
  double frame_rate = 0;             // the source's frames per second; 0 when unknown
  std::uintmax_t bytes = 0;          // the input's size
  double elapsed_s = 0;              // since it started (running files)
};

// A batch's live figures for progress displays: the batch's threads write them as files start,
// advance (through each file's RunProgress) and end; a display reads them from another thread.
// Per-frame updates touch only a file's atomic frame counter; the lock is taken per file.
class BatchProgress {
 public:
  struct Snapshot {
    int total = 0;
    int finished = 0;  // any status
    int failed = 0;
    std::int64_t frames = 0;  // the finished files' frames and the running files' so far
    std::uintmax_t bytes_total = 0;
    std::uintmax_t bytes_finished = 0;
    std::vector<FileProgress> running;
    // The files that ended since the snapshot before, in the order they ended; none when the
    // progress does not list finished files.
    std::vector<FileProgress> finished_files;
  };

  // `lists_finished_files`: keep each ended file for the next snapshot. Off when nothing takes
  // snapshots (a quiet run with no --progress stream): a batch of thousands of images would
  // keep them all to its end.
  explicit BatchProgress(bool lists_finished_files = true)
      : lists_finished_files_(lists_finished_files) {}

  void set_totals(int files, std::uintmax_t bytes);
  // A file starts running: the figures its run (or its worker) updates until it ends.
  RunProgress& started(const BatchInput& input, std::uintmax_t bytes);
  // A file ended (`run`: what started() gave it, or null when it never started; then
  // `file_bytes` gives its size, asked only then).
  void ended(const RunProgress* run, const FileOutcome& outcome,
             const std::function<std::uintmax_t()>& file_bytes);
  // Now, with the files that ended since the last snapshot, which it hands over.
  Snapshot snapshot();

 private:
  struct Running {
    std::string input;
    std::uintmax_t bytes = 0;
    std::int64_t start_ns = 0;
    RunProgress run;
  };

  const bool lists_finished_files_;
  std::mutex mutex_;
  int total_ = 0;
  int finished_ = 0;
  std::uintmax_t bytes_total_ = 0;
  std::uintmax_t bytes_finished_ = 0;
  std::int64_t frames_finished_ = 0;
  int failed_ = 0;
  std::list<Running> running_;                // a list: each file's RunProgress stays where it is
  std::vector<FileProgress> finished_files_;  // since the last snapshot
};

struct BatchOptions {
  bool resume = false;
  const std::atomic<bool>* cancel = nullptr;  // set by SIGINT / SIGTERM
  BatchProgress* progress = nullptr;
  // Called (from a worker thread, one call at a time) as each file ends.
  std::function<void(const FileOutcome&)> on_file_done;
  // Record completed files in .framepipe-manifest-<name>.json instead of the folder's shared
  // manifest: for processes that share an output folder (shards, MPI ranks). Empty: shared.
  std::string manifest_name;
  // Under pipeline.isolation: process, the binary each file's worker process runs
  // (pipeline/isolated_file.h): framepipe's own, unless a test runs a batch from another.
  std::filesystem::path worker_program = "/proc/self/exe";
};

struct BatchResult {
  std::deque<FileOutcome> files;  // in input order
  double wall_s = 0;
  bool cancelled = false;
  int flight_capacity = 0;
  std::vector<double> budget_t;  // sampled occupancy of the shared frames-in-flight budget
  std::vector<int> budget_in_use;
  // Set when the manifest could not be saved after the last file that completed ("cannot
  // write 'out/.framepipe-manifest.json': No space left on device"): `unrecorded` completed
  // files are missing from it, so --resume would not skip them. The saved one is intact.
  std::string manifest_error;
  int unrecorded = 0;
  // The run that took the batch's images through one graph (pipeline/item.h), as one entry:
  // its status, frames, time and report folder (under the report root, named `images`, or
  // `images-2`… when an input is already named so). Absent when there were no such images or
  // no report was written (pipeline.profile off).
  std::optional<FileOutcome> images_run;

  int count(const std::string& status) const;
  std::int64_t frames() const;
};

// Runs `config` over every input, config.files_in_parallel at once, sharing one oneTBB arena
// and one frames-in-flight budget (with pipeline.isolation: process, each file in a worker
// process with its share of both, pipeline/isolated_file.h). Each file's outputs go to
// output.dir/<its relative folder>, its report to <report dir>/<its relative path>/. A file that
// fails does so alone. Completed files are recorded in the output folder's manifest; with
// options.resume, files complete from an earlier run with the same config are skipped, and an
// unreadable manifest throws ManifestError (pipeline/manifest.h) before any file starts.
// `inputs` is taken over: each file's entry moves into its outcome, so a folder of thousands of
// images holds each name once, not twice.
BatchResult run_batch(const Config& config, std::vector<BatchInput> inputs,
                      const BatchOptions& options);

// Hands a batch its files one at a time: the next file, or nullopt when there are no more.
// Called from the batch's worker threads, one call at a time; it may block (e.g. while it asks
// a coordinator for work).
using InputProvider = std::function<std::optional<BatchInput>()>;

// Whether run_batch runs `input` as an item of the one graph its images share (pipeline/item.h)
// rather than as a file of its own: an image, when every stage takes items and files run on
// threads.
bool runs_as_item(const Config& config, const BatchInput& input);

// run_batch with files taken from `next` whenever one of the files_in_parallel workers is free,
// so the files can come from elsewhere (e.g. MPI rank 0, app/mpi_batch.cpp). The result lists
// the files in the order they were taken. options.progress's totals are left to the caller.
BatchResult run_batch_from(const Config& config, const InputProvider& next,
                           const BatchOptions& options);

// batch.json: totals, per-file status, budget occupancy over time (docs/report.md).
nlohmann::json batch_report_json(const Config& config, const BatchResult& result);

// batch.json and batch.html for a batch of thousands of files without its per-file arrays in
// memory as JSON: `head` is the tree less `files` and `timeline` (null there), which are made
// from `result` one entry at a time as they are written. With `result` null, `head` is a whole
// batch.json tree (read back, merged) written as it is.
struct BatchReport {
  nlohmann::json head;
  const BatchResult* result = nullptr;  // must outlive the report
  std::filesystem::path report_root;
};
// What batch_report_json makes, with the per-file arrays left to be streamed from `result`.
BatchReport batch_report(const Config& config, const BatchResult& result);
// The whole tree: batch_report_json's, for callers that change the per-file entries (--resume).
nlohmann::json batch_report_tree(const BatchReport& report);
// The bytes write_json_file(path, batch_report_tree(report), 2) writes, and the text
// batch_report_html(batch_report_tree(report)) makes, handed to `write` piece by piece.
void stream_batch_json(const BatchReport& report, const TextSink& write);
void batch_report_html(const BatchReport& report, const TextSink& write);
// Both written through write_streamed_file_atomically.
void write_batch_json(const std::filesystem::path& path, const BatchReport& report);
void write_batch_html(const std::filesystem::path& path, const BatchReport& report);
// One file's entry in batch.json (its `report` relative to `report_root`), and back.
nlohmann::json file_outcome_json(const FileOutcome& file, const std::filesystem::path& report_root);
FileOutcome file_outcome_from_json(const nlohmann::json& entry,
                                   const std::filesystem::path& report_root);
// The folder a batch writes its reports into: report.dir, or <output.dir>/report.
std::filesystem::path batch_report_root(const Config& config);
// batch.html: the same as a table with links to each file's report.html.
std::string batch_report_html(const nlohmann::json& batch);

}  // namespace framepipe
