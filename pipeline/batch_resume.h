#pragma once

// batch.json across --resume: the run that resumes skips the files an earlier run completed,
// and its batch.json keeps what the earlier one said of them.
#include <filesystem>
#include <nlohmann/json.hpp>

namespace framepipe {

// For each file `batch` lists as skipped that `earlier` (the batch.json the resumed run left)
// lists as done (ok or damaged, or itself kept from a run before), the earlier entry takes its
// place, with `status` "skipped" (what this run did, as the totals count it), `from_earlier_run`
// true and `earlier_status` what the earlier run found. The rest of `batch` (totals, stages,
// timeline) stays this run's. An `earlier` that is not a batch.json changes nothing.
void keep_earlier_entries(nlohmann::json& batch, const nlohmann::json& earlier);

// The batch.json in `report_root`, or null when there is none or it cannot be read.
nlohmann::json read_earlier_batch(const std::filesystem::path& report_root);

}  // namespace framepipe
