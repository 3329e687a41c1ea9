#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/inputs.h"

namespace framepipe {

// One share of a batch split over `count` machines: `index` is 0-based.
struct Shard {
  int index = 0;
  int count = 1;
  std::string source;  // where it came from: "--shard", "SLURM_ARRAY_TASK_ID", …

  // "shard-K-of-N": the shard's report folder and manifest name.
  std::string name() const;
};

// A bad --shard, --shard-count or sharding environment variable; the message names it.
class ShardError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "K/N" with 0 <= K < N. Throws ShardError.
Shard parse_shard(const std::string& text);

// Looks an environment variable up: its value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The shard this process runs, from, in order of precedence:
//   `option` (--shard K/N; "off" means no sharding whatever the environment says);
//   SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN / _STEP when set,
//   so arrays like 1-8 or 0-30:10 work);
//   JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) with the count from `count_option`
//   (--shard-count, 0 when not given) or FRAMEPIPE_SHARD_COUNT.
// `count_option` also overrides SLURM_ARRAY_TASK_COUNT. nullopt: no sharding. Throws ShardError.
std::optional<Shard> resolve_shard(const std::string& option, int count_option,
                                   const EnvLookup& env);

// What the schedulers below weigh a batch's files by: their sizes (0 when unreadable, a URL
// say) and keys (relative paths, for stable ties).
struct FileWeights {
  std::vector<std::uintmax_t> sizes;
  std::vector<std::string> keys;
};
FileWeights file_weights(const std::vector<BatchInput>& inputs);

// Splits files over `count` shards, balanced by size: files sorted by size, largest first (ties
// by key), each to the shard with the fewest bytes so far (ties to the lowest index). Every file
// lands in exactly one shard, the largest shard exceeds the smallest by at most the largest
// file, and the result depends only on the (size, key) pairs, not on their order.
// Returns each file's shard index.
std::vector<int> assign_shards(const std::vector<std::uintmax_t>& sizes,
                               const std::vector<std::string>& keys, int count);

// The order a dynamic scheduler hands files out in: largest first, ties by key.
std::vector<std::size_t> largest_first(const std::vector<std::uintmax_t>& sizes,
                                       const std::vector<std::string>& keys);

}  // namespace framepipe
