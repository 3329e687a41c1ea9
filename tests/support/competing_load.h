#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace framepipe::testing {

// Busy loops in other processes (`sh -c 'while :; do :; done'`), for as long as the object
// lives: the load a profiler test makes itself, so what it asserts holds on a busy machine
// and does not depend on what else the machine is doing.
class CompetingLoad {
 public:
  explicit CompetingLoad(int processes);
  ~CompetingLoad();
  CompetingLoad(const CompetingLoad&) = delete;
  CompetingLoad& operator=(const CompetingLoad&) = delete;

  // CPU time the loops have used since they started (from /proc/<pid>/stat).
  std::int64_t cpu_ns() const;

 private:
  std::vector<pid_t> pids_;
};

}  // namespace framepipe::testing
