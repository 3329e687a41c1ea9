#pragma once

// One file of a batch, run in this process: the one place that turns a batch's config and one
// input into that file's run, its outcome and its report, whether the batch runs it on one of
// its threads or in a worker process (pipeline/isolated_file.h).
#include "pipeline/batch.h"
#include "pipeline/run.h"

namespace framepipe {

// Runs `config` over `input`: its outputs go to output.dir/<its relative folder>, its report
// (when config.profile) to <batch report root>/<its relative path>/. The outcome's status is
// ok, damaged, failed or cancelled; the manifest is left to the caller. Never throws for
// failures of the media, the stages or the report.
FileOutcome run_batch_file(const Config& config, const BatchInput& input,
                           const RunEnvironment& environment);

// Writes `run`'s report (config.report_formats) into `dir`: "" when it did, else one line on why
// it could not ("its report was not written: …").
std::string write_batch_report_of(const Config& config, const RunResult& run,
                                  const std::filesystem::path& dir);

}  // namespace framepipe
