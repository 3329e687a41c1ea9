#include "pipeline/shard.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <numeric>

namespace framepipe {

namespace {

// A whole decimal number, or nullopt.
std::optional<long long> to_integer(const std::string& text) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || rest != end) return std::nullopt;
  return value;
}

long long integer_of(const std::string& what, const std::string& text) {
  const auto value = to_integer(text);
  if (!value) throw ShardError(what + " must be a whole number, got '" + text + "'");
  return *value;
}

long long count_of(const std::string& what, const std::string& text) {
  const auto value = integer_of(what, text);
  if (value < 1 || value > 100000) {
    throw ShardError(what + " must be a shard count in [1, 100000], got '" + text + "'");
  }
  return value;
}

Shard checked(long long index, long long count, std::string source) {
  if (index < 0 || index >= count) {
    throw ShardError(source + ": shard index " + std::to_string(index) + " is outside 0.." +
                     std::to_string(count - 1) + " (" + std::to_string(count) + " shards)");
  }
  return {static_cast<int>(index), static_cast<int>(count), std::move(source)};
}

}  // namespace

std::string Shard::name() const {
  return "shard-" + std::to_string(index) + "-of-" + std::to_string(count);
}

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) {
    throw ShardError("--shard " + text + ": expected K/N (shard K of N, K from 0 to N-1)");
  }
  const auto index = integer_of("--shard " + text + ": K", text.substr(0, slash));
  const auto count = count_of("--shard " + text + ": N", text.substr(slash + 1));
  return checked(index, count, "--shard " + text);
}

std::optional<Shard> resolve_shard(const std::string& option, int count_option,
                                   const EnvLookup& env) {
  if (count_option < 0) throw ShardError("--shard-count must be at least 1");
  if (option == "off") return std::nullopt;
  if (!option.empty()) {
    auto shard = parse_shard(option);
    if (count_option > 0 && count_option != shard.count) {
      throw ShardError("--shard " + option + " and --shard-count " + std::to_string(count_option) +
                       " disagree");
    }
    return shard;
  }
  if (const auto task = env("SLURM_ARRAY_TASK_ID")) {
    const auto id = integer_of("SLURM_ARRAY_TASK_ID", *task);
    long long count = count_option;
    if (count == 0) {
      const auto text = env("SLURM_ARRAY_TASK_COUNT");
      if (!text) {
        throw ShardError(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shard-count N");
      }
      count = count_of("SLURM_ARRAY_TASK_COUNT", *text);
    }
    const auto min_text = env("SLURM_ARRAY_TASK_MIN");
    const auto step_text = env("SLURM_ARRAY_TASK_STEP");
    const auto min = min_text ? integer_of("SLURM_ARRAY_TASK_MIN", *min_text) : 0;
    const auto step = step_text ? integer_of("SLURM_ARRAY_TASK_STEP", *step_text) : 1;
    if (step < 1) throw ShardError("SLURM_ARRAY_TASK_STEP must be at least 1, got " + *step_text);
    if ((id - min) % step != 0) {
      throw ShardError("SLURM_ARRAY_TASK_ID " + *task + " is not SLURM_ARRAY_TASK_MIN + a " +
                       "multiple of SLURM_ARRAY_TASK_STEP");
    }
    return checked((id - min) / step, count, "SLURM_ARRAY_TASK_ID=" + *task);
  }
  if (const auto index = env("JOB_COMPLETION_INDEX")) {
    long long count = count_option;
    if (count == 0) {
      const auto text = env("FRAMEPIPE_SHARD_COUNT");
      if (!text) {
        throw ShardError(
            "JOB_COMPLETION_INDEX is set but the shard count is not: pass --shard-count N or set "
            "FRAMEPIPE_SHARD_COUNT to the Job's completions");
      }
      count = count_of("FRAMEPIPE_SHARD_COUNT", *text);
    }
    return checked(integer_of("JOB_COMPLETION_INDEX", *index), count,
                   "JOB_COMPLETION_INDEX=" + *index);
  }
  if (count_option > 0) {
    throw ShardError(
        "--shard-count needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment, or "
        "--shard K/N");
  }
  return std::nullopt;
}

std::vector<std::size_t> largest_first(const std::vector<std::uintmax_t>& sizes,
                                       const std::vector<std::string>& keys) {
  std::vector<std::size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (sizes[a] != sizes[b]) return sizes[a] > sizes[b];
    return keys[a] < keys[b];
  });
  return order;
}

std::vector<int> assign_shards(const std::vector<std::uintmax_t>& sizes,
                               const std::vector<std::string>& keys, int count) {
  if (count < 1) throw ShardError("the shard count must be at least 1");
  if (sizes.size() != keys.size()) throw std::invalid_argument("assign_shards: sizes != keys");
  std::vector<int> shard_of(sizes.size(), 0);
  std::vector<std::uintmax_t> load(static_cast<std::size_t>(count), 0);
  for (const auto i : largest_first(sizes, keys)) {
    const auto lightest = std::min_element(load.begin(), load.end()) - load.begin();
    shard_of[i] = static_cast<int>(lightest);
    load[static_cast<std::size_t>(lightest)] += sizes[i];
  }
  return shard_of;
}

FileWeights file_weights(const std::vector<BatchInput>& inputs) {
  FileWeights weights;
  for (const auto& input : inputs) {
    std::error_code error;
    const auto size = std::filesystem::file_size(input.path, error);
    weights.sizes.push_back(error ? 0 : size);
    weights.keys.push_back(input.relative);
  }
  return weights;
}

}  // namespace framepipe
