#pragma once

#include <cstdint>
#include <optional>
#include <set>

namespace framepipe {

// The kernel's id of the calling thread.
int current_tid();
// The ids of every thread of this process now (from /proc/self/task).
std::set<int> process_thread_ids();
// CPU time a thread of this process has used so far; nullopt once it has exited.
std::optional<std::int64_t> thread_cpu_ns(int tid);
// CPU time the whole process has used so far.
std::int64_t process_cpu_ns();

}  // namespace framepipe
