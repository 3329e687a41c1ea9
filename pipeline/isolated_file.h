#pragma once

// `pipeline.isolation: process`: each file of a batch runs in a worker process, a new process
// of framepipe's own binary, so a crash in a library (a SIGSEGV in a decoder on a hostile file,
// an abort) fails that file alone instead of the whole batch.
//
// The parent starts `PROGRAM __file-worker PARENT_PID` (posix_spawn, never a shell) with one
// end of a socket pair as the worker's file descriptor 3. It sends the job there as one JSON
// object: the batch's effective config (config_json), the input and the folders, and the
// config's fingerprint, which the worker checks after loading the config, so that the worker
// runs exactly the config the parent holds. The worker runs run_batch_file() (the same
// function a thread of the batch runs) and answers with JSON lines: {"frames": N,
// "in_flight": M} while it runs, then {"outcome": ...} (file_outcome_json). A worker that dies
// without an outcome fails its file with one line naming the signal or exit code, and the
// parent removes the hidden temporaries it left (their names hold the worker's process id,
// pipeline/atomic_file.h).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "pipeline/batch.h"
#include "pipeline/config.h"
#include "pipeline/registry.h"

namespace framepipe {

// The hidden command that makes framepipe's binary a file worker (app/main.cpp).
inline constexpr const char* kFileWorkerCommand = "__file-worker";
// The worker's end of the socket pair to its parent.
inline constexpr int kWorkerDescriptor = 3;

// What a worker reports while its file runs.
struct WorkerProgress {
  std::int64_t frames = 0;  // frames done so far
  int in_flight = 0;        // frames that exist now
};

struct IsolatedFileOptions {
  // The binary to start: framepipe's own, unless a test runs a batch from another binary.
  std::filesystem::path program = "/proc/self/exe";
  // Set by SIGINT / SIGTERM: the worker gets one SIGTERM, cancels its run and removes its
  // outputs, as a run on a thread does.
  const std::atomic<bool>* cancel = nullptr;
  // Called on the calling thread with each progress report of the worker.
  std::function<void(const WorkerProgress&)> on_progress;
};

// run_batch_file(config, input) in a worker process, waiting for it. A worker killed by a
// signal or gone without an outcome gives a failed outcome, with one line naming the file and
// the signal or exit code ("clip.mp4: frame 5: stage 'boom' (fail): the worker
// process crashed (SIGSEGV); nothing of this file was kept"), and nothing of its outputs or report
// left behind; a worker that cannot be started fails the file with the system's reason. Never
// throws for what happens to the worker.
FileOutcome run_isolated_file(const Config& config, const BatchInput& input,
                              const IsolatedFileOptions& options);

// The worker's side, `framepipe __file-worker PARENT_PID`: reads the job from descriptor 3,
// runs it with `registry`'s stages, cancelled by `cancel`, and writes the progress and outcome
// back. Ends when the parent does (PR_SET_PDEATHSIG sends it SIGTERM). Returns the exit code.
int file_worker_main(const std::string& parent_pid, const Registry& registry,
                     const std::atomic<bool>* cancel);

}  // namespace framepipe
