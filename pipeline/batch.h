#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/inputs.h"

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
  std::vector<std::filesystem::path> outputs;
  std::filesystem::path report_dir;  // its own report, when one was written
};

// Live counters for a progress display; read from another thread.
struct BatchProgress {
  std::atomic<int> total{0};
  std::atomic<int> finished{0};  // any status
  std::atomic<int> failed{0};
  std::atomic<int> running{0};
  std::atomic<std::int64_t> frames{0};
  std::atomic<std::uintmax_t> bytes_total{0};
  std::atomic<std::uintmax_t> bytes_finished{0};
};

struct BatchOptions {
  bool resume = false;
  const std::atomic<bool>* cancel = nullptr;  // set by SIGINT / SIGTERM
  BatchProgress* progress = nullptr;
  // Called (from a worker thread, one call at a time) as each file ends.
  std::function<void(const FileOutcome&)> on_file_done;
};

struct BatchResult {
  std::vector<FileOutcome> files;  // in input order
  double wall_s = 0;
  bool cancelled = false;
  int flight_capacity = 0;
  std::vector<double> budget_t;  // sampled occupancy of the shared frames-in-flight budget
  std::vector<int> budget_in_use;

  int count(const std::string& status) const;
  std::int64_t frames() const;
};

// Runs `config` over every input, config.files_in_parallel at once, sharing one oneTBB arena
// and one frames-in-flight budget. Each file's outputs go to output.dir/<its relative folder>,
// its report to <report dir>/<its relative path>/. A file that fails does so alone. Completed
// files are recorded in the output folder's manifest; with options.resume, files complete from
// an earlier run with the same config are skipped.
BatchResult run_batch(const Config& config, const std::vector<BatchInput>& inputs,
                      const BatchOptions& options);

// batch.json: totals, per-file status, budget occupancy over time (docs/report.md).
nlohmann::json batch_report_json(const Config& config, const BatchResult& result);
// batch.html: the same as a table with links to each file's report.html.
std::string batch_report_html(const nlohmann::json& batch);

}  // namespace framepipe
