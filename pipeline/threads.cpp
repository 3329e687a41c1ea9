#include "pipeline/threads.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>

namespace framepipe {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t thread_cpu_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int thread_number() {
  static std::atomic<int> next{1};
  thread_local const int number = next.fetch_add(1);
  return number;
}

int current_tid() { return static_cast<int>(syscall(SYS_gettid)); }

std::set<int> process_thread_ids() {
  std::set<int> ids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", error)) {
    ids.insert(std::atoi(entry.path().filename().c_str()));
  }
  return ids;
}

std::optional<std::int64_t> thread_cpu_ns(int tid) {
  // Linux encodes another thread's CPU clock as ~tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED,
  // as glibc's pthread_getcpuclockid does; libav's and x264's threads have no pthread_t we hold.
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid)) << 3) | 6;
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return std::nullopt;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

struct EngineThreadSet {
  std::mutex mutex;
  std::set<int> tids;
};

EngineThreadSet& engine_thread_set() {
  static EngineThreadSet set;
  return set;
}

}  // namespace

void EngineThreads::note_current() {
  thread_local bool noted = false;
  if (noted) return;
  noted = true;
  auto& set = engine_thread_set();
  std::lock_guard lock(set.mutex);
  set.tids.insert(current_tid());
}

std::set<int> EngineThreads::all() {
  auto& set = engine_thread_set();
  std::lock_guard lock(set.mutex);
  return set.tids;
}

}  // namespace framepipe
