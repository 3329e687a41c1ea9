#pragma once

// `pipeline.isolation: process`: each file of a batch runs in a worker process, a process of
// framepipe's own binary, so a crash in a library (a SIGSEGV in a decoder on a hostile file, an
// abort) fails that file alone instead of the whole batch.
//
// Each thread of the batch starts `PROGRAM __file-worker PARENT_PID` (posix_spawn, never a
// shell) with one end of a socket pair as the worker's file descriptor 3, and keeps it for its
// files one after another, so a process starts once per thread, not once per file, and again
// only after one died. For each file it sends the job as one JSON line: the batch's effective
// config (config_json), the input and the folders, and the config's fingerprint, which the
// worker checks after loading the config, so that it runs exactly the config the parent holds.
// The worker runs run_batch_file() (the same function a thread of the batch runs) and answers
// with JSON lines: {"frames": N, "in_flight": M, "expected_frames": E, "frame_rate": R} while
// it runs, then {"outcome": ...}
// (file_outcome_json). A worker that dies without an outcome fails its file with one line
// naming the stage call and the signal (or the exit code), and the parent removes the hidden
// temporaries it left (their names hold the worker's process id, pipeline/atomic_file.h).
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
  std::int64_t frames = 0;           // frames done so far
  int in_flight = 0;                 // frames that exist now
  std::int64_t expected_frames = 0;  // RunProgress's, once the source is open
  double frame_rate = 0;
};

struct IsolatedFileOptions {
  // The binary to start: framepipe's own, unless a test runs a batch from another binary.
  std::filesystem::path program = "/proc/self/exe";
  // Set by SIGINT / SIGTERM: the worker gets one SIGTERM, cancels its run and removes its
  // outputs, as a run on a thread does.
  const std::atomic<bool>* cancel = nullptr;
};

// One worker process, for files run one after another (by one thread of a batch). Started with
// the first file, and again for the next file after one died; told to leave when this goes.
class FileWorker {
 public:
  explicit FileWorker(IsolatedFileOptions options);
  FileWorker(const FileWorker&) = delete;
  FileWorker& operator=(const FileWorker&) = delete;
  ~FileWorker();

  // run_batch_file(config, input) in the worker, waiting for it; `on_progress` is called on
  // this thread with each progress report. A worker killed by a signal or gone without an
  // outcome gives a failed outcome, with one line naming the file and the signal or exit code
  // ("clip.mp4: frame 5: stage 'boom' (fail): the worker process crashed (SIGSEGV); nothing of
  // this file was kept"), and nothing of its outputs or report left behind; a worker that
  // cannot be started fails the file with the system's reason. Never throws for what happens
  // to the worker.
  FileOutcome run(const Config& config, const BatchInput& input,
                  const std::function<void(const WorkerProgress&)>& on_progress);

 private:
  // Closes the worker's stream (a live worker leaves when it reads its end) and reaps it.
  void stop();

  IsolatedFileOptions options_;
  int pid_ = -1;
  int socket_ = -1;         // the parent's end of the pair
  bool signalled_ = false;  // the worker got its SIGTERM
};

// The worker's side, `framepipe __file-worker PARENT_PID`: reads jobs from descriptor 3, one a
// line, runs each with `registry`'s stages, cancelled by `cancel`, and writes its progress and
// outcome back; leaves when the stream ends, or when the parent does (PR_SET_PDEATHSIG sends it
// SIGTERM). Returns the exit code.
int file_worker_main(const std::string& parent_pid, const Registry& registry,
                     const std::atomic<bool>* cancel);

}  // namespace framepipe
