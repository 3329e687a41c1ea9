#include "pipeline/sched_stats.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace framepipe {

namespace {

// Field 2 of a schedstat line: "<cpu ns> <run delay ns> <timeslices>".
std::optional<std::int64_t> run_delay_of(const char* text, std::size_t size) {
  const char* end = text + size;
  const char* space = std::find(text, end, ' ');
  if (space == end) return std::nullopt;
  std::int64_t delay = 0;
  const auto [rest, error] = std::from_chars(space + 1, end, delay);
  if (error != std::errc{}) return std::nullopt;
  return delay;
}

// The calling thread's schedstat file, open for the thread's lifetime.
class OwnSchedstat {
 public:
  OwnSchedstat() : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}
  ~OwnSchedstat() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnSchedstat(const OwnSchedstat&) = delete;
  OwnSchedstat& operator=(const OwnSchedstat&) = delete;

  std::optional<std::int64_t> run_delay() const {
    if (fd_ < 0) return std::nullopt;
    std::array<char, 96> buffer{};
    const auto got = ::pread(fd_, buffer.data(), buffer.size(), 0);
    if (got <= 0) return std::nullopt;
    return run_delay_of(buffer.data(), static_cast<std::size_t>(got));
  }

 private:
  int fd_;
};

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

}  // namespace

std::optional<std::int64_t> thread_run_delay_now_ns() {
  thread_local const OwnSchedstat own;
  return own.run_delay();
}

std::optional<std::int64_t> thread_run_delay_ns(int tid) {
  std::array<char, 64> path{};
  std::snprintf(path.data(), path.size(), "/proc/self/task/%d/schedstat", tid);
  std::ifstream file(path.data());
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  return run_delay_of(line.data(), line.size());
}

std::optional<std::int64_t> machine_busy_ns() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return std::nullopt;
  std::ifstream stat("/proc/stat");
  const auto ticks_per_second = sysconf(_SC_CLK_TCK);
  if (!stat || ticks_per_second <= 0) return std::nullopt;
  std::int64_t busy_ticks = 0;
  bool any = false;
  for (std::string line; std::getline(stat, line);) {
    // Per-core lines only ("cpu0 ..."); the summary "cpu " line counts cores outside the mask.
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] == ' ') continue;
    std::istringstream fields(line.substr(3));
    int core = 0;
    std::int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                 steal = 0;
    if (!(fields >> core >> user >> nice >> system >> idle >> iowait >> irq >> softirq)) continue;
    fields >> steal;
    if (core < 0 || core >= CPU_SETSIZE || !CPU_ISSET(core, &allowed)) continue;
    busy_ticks += user + nice + system + irq + softirq + steal;
    any = true;
  }
  if (!any) return std::nullopt;
  return busy_ticks * (kNsPerSecond / ticks_per_second);
}

}  // namespace framepipe
