#pragma once

#include <cstdint>
#include <optional>

namespace framepipe {

// What the Linux scheduler keeps about time spent waiting for a core: a thread that is ready
// to run but finds every core taken accumulates run delay (the run queue's wait, field 2 of
// /proc/<tid>/schedstat); time off-CPU that is not run delay is sleeping (IO, locks, page
// faults). Where the kernel keeps no such figures every reading is nullopt.

// The calling thread's run delay so far. Keeps the thread's schedstat file open, so a reading
// costs one pread.
std::optional<std::int64_t> thread_run_delay_now_ns();

// Another thread of this process: its run delay so far; nullopt once it has exited.
std::optional<std::int64_t> thread_run_delay_ns(int tid);

// CPU time every process on the cores this process may run on (its affinity mask) has used
// so far, from /proc/stat: user, nice, system, irq, softirq and steal; nullopt when unreadable.
std::optional<std::int64_t> machine_busy_ns();

}  // namespace framepipe
