#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace framepipe {

// The terminal summary of a run, from its report.json: a compact per-stage table (with the
// decode and encode phases as sub-rows), the conclusions and the advice.
std::string format_summary(const nlohmann::json& report);

// A batch's summary, from its batch.json: the per-stage totals over the files, the files by
// status, frames, fps, the bottleneck, the conclusions and the advice.
std::string format_batch_summary(const nlohmann::json& batch);

// Two reports side by side (runs, or batches as report_folder.h presents them): fps and wall
// time, per-stage figures in pipeline order, each side's verdict and advice, and the config
// keys that differ.
std::string format_comparison(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace framepipe
