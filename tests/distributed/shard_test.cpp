// Sharding (pipeline/shard.h): the assignment covers every file once and is balanced by size,
// the shard comes from --shard or the cluster's environment, and bad values are clear errors.
#include "pipeline/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

#include "tests/support/media.h"

namespace framepipe::testing {
namespace {

namespace fs = std::filesystem;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct Files {
  std::vector<std::uintmax_t> sizes;
  std::vector<std::string> keys;
};

Files some_files(int n, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::uintmax_t> size(1, 5'000'000);
  Files files;
  for (int i = 0; i < n; ++i) {
    files.sizes.push_back(i % 7 == 3 ? files.sizes.empty() ? 42 : files.sizes.front()
                                     : size(random));
    files.keys.push_back("dir" + std::to_string(i % 3) + "/clip" + std::to_string(i) + ".mp4");
  }
  return files;
}

TEST(Shard, EveryFileInExactlyOneShardAndBalancedBySize) {
  for (const int n : {0, 1, 3, 17, 60}) {
    const auto files = some_files(n, static_cast<unsigned>(n));
    const auto largest =
        files.sizes.empty() ? 0 : *std::max_element(files.sizes.begin(), files.sizes.end());
    for (int count = 1; count <= 4; ++count) {
      const auto shard_of = assign_shards(files.sizes, files.keys, count);
      ASSERT_EQ(shard_of.size(), files.keys.size());
      // Per shard, the files it got; then every key appears in exactly one of them.
      std::vector<std::vector<std::string>> shards(static_cast<std::size_t>(count));
      std::vector<std::uintmax_t> bytes(static_cast<std::size_t>(count), 0);
      for (std::size_t i = 0; i < shard_of.size(); ++i) {
        ASSERT_GE(shard_of[i], 0);
        ASSERT_LT(shard_of[i], count);
        shards[static_cast<std::size_t>(shard_of[i])].push_back(files.keys[i]);
        bytes[static_cast<std::size_t>(shard_of[i])] += files.sizes[i];
      }
      std::vector<std::string> all;
      for (const auto& shard : shards) all.insert(all.end(), shard.begin(), shard.end());
      std::sort(all.begin(), all.end());
      auto expected = files.keys;
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(all, expected) << n << " files, " << count << " shards";
      const auto [min, max] = std::minmax_element(bytes.begin(), bytes.end());
      EXPECT_LE(*max, *min + largest) << n << " files, " << count << " shards";
    }
  }
}

TEST(Shard, AssignmentDoesNotDependOnTheListOrder) {
  const auto files = some_files(25, 7);
  const auto reference = assign_shards(files.sizes, files.keys, 3);
  std::map<std::string, int> by_key;
  for (std::size_t i = 0; i < reference.size(); ++i) by_key[files.keys[i]] = reference[i];
  std::vector<std::size_t> order(files.keys.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  Files shuffled;
  for (const auto i : order) {
    shuffled.sizes.push_back(files.sizes[i]);
    shuffled.keys.push_back(files.keys[i]);
  }
  const auto again = assign_shards(shuffled.sizes, shuffled.keys, 3);
  for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i], by_key[shuffled.keys[i]]);
}

TEST(Shard, LargestFirstBreaksTiesByKey) {
  const auto order = largest_first({5, 9, 5, 1}, {"b", "a", "a", "z"});
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 2, 0, 3}));
}

TEST(Shard, ParsesKOfN) {
  const auto shard = parse_shard("2/4");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 4);
  EXPECT_EQ(shard.name(), "shard-2-of-4");
  for (const auto* bad : {"4/4", "-1/4", "a/4", "1/0", "1", "1/2/3", "", "/", "1/x", " 1/2"}) {
    EXPECT_THROW(parse_shard(bad), ShardError) << bad;
  }
}

TEST(Shard, FromSlurmArray) {
  auto shard =
      resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 3);
  EXPECT_EQ(shard->count, 4);
  // --array=1-4: ids start at 1.
  shard = resolve_shard("", 0,
                        env_of({{"SLURM_ARRAY_TASK_ID", "4"},
                                {"SLURM_ARRAY_TASK_COUNT", "4"},
                                {"SLURM_ARRAY_TASK_MIN", "1"}}));
  EXPECT_EQ(shard->index, 3);
  // --array=0-30:10: ids 0, 10, 20, 30.
  shard = resolve_shard("", 0,
                        env_of({{"SLURM_ARRAY_TASK_ID", "20"},
                                {"SLURM_ARRAY_TASK_COUNT", "4"},
                                {"SLURM_ARRAY_TASK_MIN", "0"},
                                {"SLURM_ARRAY_TASK_STEP", "10"}}));
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 4);
  // An explicit --shard wins over the environment.
  shard = resolve_shard("1/2", 0,
                        env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  EXPECT_EQ(shard->index, 1);
  EXPECT_EQ(shard->count, 2);
  EXPECT_FALSE(resolve_shard(
      "off", 0, env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})));
  EXPECT_THROW(resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "3"}})), ShardError);
  EXPECT_THROW(
      resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
      ShardError);
  EXPECT_THROW(
      resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
      ShardError);
  EXPECT_THROW(resolve_shard("", 0,
                             env_of({{"SLURM_ARRAY_TASK_ID", "5"},
                                     {"SLURM_ARRAY_TASK_COUNT", "4"},
                                     {"SLURM_ARRAY_TASK_STEP", "2"}})),
               ShardError);
}

TEST(Shard, FromKubernetesIndexedJob) {
  auto shard =
      resolve_shard("", 0, env_of({{"JOB_COMPLETION_INDEX", "2"}, {"FRAMEPIPE_SHARD_COUNT", "3"}}));
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 3);
  shard = resolve_shard("", 5, env_of({{"JOB_COMPLETION_INDEX", "2"}}));
  EXPECT_EQ(shard->count, 5);
  EXPECT_FALSE(resolve_shard("", 0, env_of({})));
  EXPECT_FALSE(resolve_shard("", 0, env_of({{"FRAMEPIPE_SHARD_COUNT", "3"}})));
  EXPECT_THROW(resolve_shard("", 0, env_of({{"JOB_COMPLETION_INDEX", "2"}})), ShardError);
  EXPECT_THROW(
      resolve_shard("", 0, env_of({{"JOB_COMPLETION_INDEX", "3"}, {"FRAMEPIPE_SHARD_COUNT", "3"}})),
      ShardError);
  EXPECT_THROW(
      resolve_shard("", 0,
                    env_of({{"JOB_COMPLETION_INDEX", "1"}, {"FRAMEPIPE_SHARD_COUNT", "zero"}})),
      ShardError);
  EXPECT_THROW(resolve_shard("", 3, env_of({})), ShardError);
  EXPECT_THROW(resolve_shard("1/2", 3, env_of({})), ShardError);
}

TEST(ShardCommandLine, BadValuesAreUsageErrors) {
  const auto dir = make_temp_dir("framepipe-shard-cli");
  fs::create_directories(dir / "in");
  fs::copy_file(make_clip("shard-cli.mp4",
                          "-f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 "
                          "-preset ultrafast -pix_fmt yuv420p"),
                dir / "in/a.mp4");
  std::ofstream(dir / "c.yaml")
      << "stages:\n  - {type: decode}\n"
         "  - {type: encode, params: {codec: mpeg4, path: \"{stem}.avi\"}}\n";
  const auto run = [&](const std::string& env, const std::string& args) {
    return run_shell("env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX " + env + " " +
                     shell_quote(FRAMEPIPE_BINARY) + " run " +
                     shell_quote((dir / "c.yaml").string()) + " --input " +
                     shell_quote((dir / "in").string()) + " --output " +
                     shell_quote((dir / "out").string()) + " -q " + args);
  };
  struct Case {
    std::string env, args, message;
  };
  for (const auto& c : std::vector<Case>{
           {"", "--shard 4/4", "--shard 4/4: shard index 4 is outside 0..3"},
           {"", "--shard two/4", "--shard two/4: K must be a whole number"},
           {"", "--shard 3", "expected K/N"},
           {"JOB_COMPLETION_INDEX=1", "", "FRAMEPIPE_SHARD_COUNT"},
           {"SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=0", "", "SLURM_ARRAY_TASK_COUNT must be"},
       }) {
    const auto result = run(c.env, c.args);
    EXPECT_EQ(result.exit_code, 2) << c.args << c.env << "\n" << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(dir / "out/a.avi"));
  }
  // A single file cannot be sharded.
  const auto single =
      run_shell(shell_quote(FRAMEPIPE_BINARY) + " run " + shell_quote((dir / "c.yaml").string()) +
                " --input " + shell_quote((dir / "in/a.mp4").string()) + " --shard 0/2 -q");
  EXPECT_EQ(single.exit_code, 2) << single.output;
  EXPECT_NE(single.output.find("--shard splits a batch"), std::string::npos) << single.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace framepipe::testing
