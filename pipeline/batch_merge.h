#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace framepipe {

// The report folders to merge: for each of `dirs`, every shard-*/ folder in it that holds a
// batch.json (so `out/report` finds the shards a sharded run wrote there, even after a merge
// wrote its own batch.json next to them), or else the folder itself when it holds one. Throws
// std::runtime_error naming a folder that has neither.
std::vector<std::filesystem::path> find_batch_reports(
    const std::vector<std::filesystem::path>& dirs);

// One batch report (batch.json, schema framepipe-batch/1) from the batch reports of several
// shards of a batch, to be written into `out`: every file's row (its report link made relative
// to `out`), totals summed (wall_s: the slowest shard's, as shards run side by side), a
// `shards` section (files, frames, failed, wall_s, fps of each) naming the `slowest_shard`,
// and `stages`: each stage's figures summed over the files' report.json. Throws
// std::runtime_error on an unreadable batch.json or a file listed by two shards.
nlohmann::json merge_batch_reports(const std::vector<std::filesystem::path>& dirs,
                                   const std::filesystem::path& out);

}  // namespace framepipe
