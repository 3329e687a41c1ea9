#pragma once

// A batch's analysis from its files' reports: what a single run's report has (stages, the
// bottleneck, advice from the throughput model, throughput over time), summed over the files
// that ran, plus a timeline of the files across the parallel slots (docs/report.md, batch.json).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace framepipe {

// One file that ran in the batch.
struct BatchFileRun {
  std::string name;  // its relative path
  std::string status;
  int slot = 0;  // which of the files_in_parallel workers ran it
  double start_s = 0;
  double end_s = 0;
  std::int64_t frames = 0;
  nlohmann::json report;  // its report.json, or null when it has none
  // An image run as an item of the one graph a batch's images share: the graph's own run holds
  // its frames and its time, so it shows in the timeline but counts nowhere else.
  bool item = false;
};

struct BatchShape {
  int files_in_parallel = 1;
  int threads = 0;  // pipeline.threads as configured (0: every core)
  int max_frames_in_flight = 16;
  bool isolated = false;  // pipeline.isolation: process (each file's report has its share)
  double wall_s = 0;
  std::int64_t frames = 0;
};

// The members batch.json gains from the files' reports: `stages` (each stage summed over the
// files, in pipeline order, with its class), `bottleneck`, `limited_by`, `throughput_model`,
// `advice` (files_in_parallel, pipeline.threads, each with the fps the model predicts),
// `conclusions`, `series` (the batch's fps over time) and `timeline` (each file's slot, start
// and end). Reports that are not objects, or figures that are not numbers, count as absent.
nlohmann::json analyze_batch(const BatchShape& shape, const std::vector<BatchFileRun>& files,
                             bool with_timeline = true);
// (with_timeline false: `timeline` null, for a caller that writes it from the files itself.)

// One file's row of `timeline`.
nlohmann::json timeline_row(const BatchFileRun& file);

}  // namespace framepipe
