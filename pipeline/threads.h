#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>

namespace framepipe {

std::int64_t steady_now_ns();
inline double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }
// Seconds of the steady clock since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
std::int64_t thread_cpu_now_ns();
// A small, stable number for the calling thread (1, 2, ...), for traces and tables.
int thread_number();

// The kernel's id of the calling thread.
int current_tid();
// The ids of every thread of this process now (from /proc/self/task).
std::set<int> process_thread_ids();
// CPU time a thread of this process has used so far; nullopt once it has exited.
std::optional<std::int64_t> thread_cpu_ns(int tid);
// CPU time the whole process has used so far.
std::int64_t process_cpu_ns();

// The threads that have made stage calls, in any run of this process: oneTBB workers, io
// threads, sources, the threads that open and finish stages. A thread that appears during a
// stage's open or first call is that stage's helper (libav's, x264's) unless it is one of these.
// Process-wide on purpose: oneTBB's workers are, since every arena draws on one pool of worker
// threads, so a worker that appears during one run's call may go on to make another run's
// calls (a batch's runs at once, or runs one after another in one process).
class EngineThreads {
 public:
  // Adds the calling thread; cheap after its first call on a thread.
  static void note_current();
  static std::set<int> all();
};

}  // namespace framepipe
