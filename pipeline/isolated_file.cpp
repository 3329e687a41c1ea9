// The parent's side of `pipeline.isolation: process`: start a worker, send it a file's job,
// follow its progress, and turn whatever became of it into the file's outcome.
#include "pipeline/isolated_file.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/json_text.h"
#include "pipeline/manifest.h"

extern char** environ;

namespace framepipe {

namespace {

namespace fs = std::filesystem;

std::string system_error_text(int error) { return std::strerror(error); }

// The job as file_worker_main reads it. Names go as escaped text (json_text.h) and come back as
// their bytes; the fingerprint lets the worker check it loaded the very same config.
std::string job_text(const Config& config, const BatchInput& input) {
  return dump_json(nlohmann::json{{"config", dump_json(config_json(config))},
                                  {"origin", config.origin},
                                  {"output_dir", config.output_dir},
                                  {"report_dir", config.report_dir},
                                  {"fingerprint", config_fingerprint(config)},
                                  {"input", input.path},
                                  {"relative", input.relative}}) +
         "\n";
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a worker that died early is an outcome, not a SIGPIPE for the batch.
    const auto sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// Starts `program __file-worker PARENT_PID` with `worker_end` as its descriptor 3 and standard
// input from /dev/null, in a process group of its own: a terminal's Ctrl-C then reaches the
// batch alone, which passes it on as one SIGTERM (a worker that got both would take the second
// as "leave now" and skip removing its outputs). Returns the process id, or -1 with `error`.
pid_t start_worker(const fs::path& program, int worker_end, std::string& error) {
  // argv[0] is the binary's real path, for `ps` and the like.
  std::error_code unresolved;
  const auto resolved = fs::read_symlink(program, unresolved);
  std::vector<std::string> args = {unresolved ? program.string() : resolved.string(),
                                   kFileWorkerCommand, std::to_string(getpid())};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, worker_end, kWorkerDescriptor);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  pid_t pid = -1;
  const int failed =
      posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (failed) {
    error =
        "cannot start a worker process (" + program.string() + "): " + system_error_text(failed);
    return -1;
  }
  return pid;
}

// What the worker said: its progress, the stage call a fatal signal hit, its outcome.
struct WorkerReport {
  WorkerProgress progress;
  std::optional<nlohmann::json> crash;
  std::optional<nlohmann::json> outcome;

  void read_line(const std::string& line,
                 const std::function<void(const WorkerProgress&)>& on_progress) {
    const auto message = nlohmann::json::parse(line, nullptr, false);
    if (!message.is_object()) return;
    if (message.contains("outcome")) {
      outcome = message["outcome"];
    } else if (message.contains("crashed")) {
      crash = message["crashed"];
    } else if (message.contains("frames") && message["frames"].is_number_integer() &&
               message.contains("in_flight") && message["in_flight"].is_number_integer()) {
      const auto number_or_zero = [&](const char* key) {
        const auto it = message.find(key);
        return it != message.end() && it->is_number() ? it->get<double>() : 0.0;
      };
      progress = {message["frames"].get<std::int64_t>(), message["in_flight"].get<int>(),
                  static_cast<std::int64_t>(number_or_zero("expected_frames")),
                  number_or_zero("frame_rate")};
      if (on_progress) on_progress(progress);
    }
  }
};

// Reads the worker's lines until its outcome, or until its end of the stream closes (it
// exited or died). On cancellation, sends it one SIGTERM.
WorkerReport follow_worker(pid_t pid, int fd, const IsolatedFileOptions& options, bool& signalled,
                           const std::function<void(const WorkerProgress&)>& on_progress) {
  WorkerReport report;
  std::string pending;
  while (!report.outcome) {
    if (!signalled && options.cancel && options.cancel->load()) {
      kill(pid, SIGTERM);
      signalled = true;
    }
    pollfd readable{fd, POLLIN, 0};
    // The timeout only bounds how late a cancellation is passed on.
    const int ready = poll(&readable, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char chunk[4096];
    const auto got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    pending.append(chunk, static_cast<std::size_t>(got));
    // The worker writes nothing after an outcome until it gets the next job.
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      report.read_line(pending.substr(0, end), on_progress);
      pending.erase(0, end + 1);
    }
  }
  return report;
}

// Removes the hidden temporaries worker `pid` left under `folder` (".NAME.partial-PID-N.EXT",
// pipeline/atomic_file.cpp). Called before the worker is reaped, so no new process can have
// its id yet.
void remove_temporaries(const fs::path& folder, pid_t pid) {
  const auto marker = ".partial-" + std::to_string(pid) + "-";
  std::error_code error;
  fs::recursive_directory_iterator entries(folder, fs::directory_options::skip_permission_denied,
                                           error);
  for (; !error && entries != fs::recursive_directory_iterator(); entries.increment(error)) {
    const auto name = entries->path().filename().string();
    if (name.starts_with(".") && name.find(marker) != std::string::npos) {
      std::error_code ignored;
      fs::remove(entries->path(), ignored);
    }
  }
}

bool is_crash(int signal_number) {
  for (int crash : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP}) {
    if (signal_number == crash) return true;
  }
  return false;
}

std::string signal_name(int signal_number) {
  const char* abbreviation = sigabbrev_np(signal_number);
  return abbreviation ? std::string("SIG") + abbreviation
                      : "signal " + std::to_string(signal_number);
}

// The one line for a worker that ended without an outcome: where it was, if a fatal signal told
// us, and how it ended.
std::string ended_without_outcome(const Config& config, const BatchInput& input,
                                  const WorkerReport& report, const siginfo_t& end) {
  std::string where = input.path + ": ";
  std::string how;
  if (report.crash) {
    const auto& crash = *report.crash;
    const auto stage = crash.value("stage", std::int64_t{-1});
    const auto frame = crash.value("frame", std::int64_t{-1});
    if (frame >= 0) where += "frame " + std::to_string(frame) + ": ";
    if (stage >= 0 && stage < static_cast<std::int64_t>(config.stages.size())) {
      const auto& named = config.stages[static_cast<std::size_t>(stage)];
      where += "stage '" + named.name + "' (" + named.type + "): ";
    }
    how = "the worker process crashed (" + signal_name(crash.value("signal", 0)) + ")";
  } else if (end.si_code == CLD_KILLED || end.si_code == CLD_DUMPED) {
    how = "the worker process " + std::string(is_crash(end.si_status) ? "crashed" : "was killed") +
          " (" + signal_name(end.si_status) + ")";
  } else {
    how = "the worker process exited with code " + std::to_string(end.si_status) +
          " without a result";
  }
  // Without the frame the signal hit, how far it got (as last reported, every 100 ms).
  const bool frame_named = report.crash && report.crash->value("frame", std::int64_t{-1}) >= 0;
  if (!frame_named) how += " after " + std::to_string(report.progress.frames) + " frames";
  return where + how + "; nothing of this file was kept";
}

}  // namespace

FileWorker::FileWorker(IsolatedFileOptions options) : options_(std::move(options)) {}

FileWorker::~FileWorker() { stop(); }

void FileWorker::stop() {
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
  pid_ = -1;
  signalled_ = false;
}

FileOutcome FileWorker::run(const Config& config, const BatchInput& input,
                            const std::function<void(const WorkerProgress&)>& on_progress) {
  FileOutcome outcome;
  outcome.input = input;
  const auto failed = [&](const std::string& why) {
    outcome.status = "failed";
    outcome.error = input.path + ": " + why;
    return outcome;
  };
  // A worker that died between files (killed from outside) is replaced, not blamed on this one.
  siginfo_t idle_end{};
  if (pid_ > 0 && waitid(P_PID, static_cast<id_t>(pid_), &idle_end, WEXITED | WNOHANG) == 0 &&
      idle_end.si_pid == pid_) {
    pid_ = -1;
    stop();
  }
  if (pid_ < 0) {
    int ends[2];
    // Close-on-exec: a worker started meanwhile by another thread must not hold this pair
    // open, or this worker's death would never read as the end of its stream.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
      return failed("cannot start a worker process: " + system_error_text(errno));
    }
    socket_ = ends[0];
    int worker_end = ends[1];
    if (worker_end == kWorkerDescriptor) {
      // dup2 onto itself would leave it close-on-exec.
      worker_end = fcntl(ends[1], F_DUPFD_CLOEXEC, kWorkerDescriptor + 1);
      ::close(ends[1]);
    }
    std::string error = "cannot start a worker process: " + system_error_text(errno);
    const pid_t pid = worker_end < 0 ? -1 : start_worker(options_.program, worker_end, error);
    if (worker_end >= 0) ::close(worker_end);
    if (pid < 0) {
      stop();
      return failed(error);
    }
    pid_ = pid;
  }
  // A worker that dies from here on shows as the end of its stream.
  send_all(socket_, job_text(config, input));
  const auto report = follow_worker(pid_, socket_, options_, signalled_, on_progress);
  if (report.outcome) {
    try {
      outcome = file_outcome_from_json(*report.outcome, batch_report_root(config));
      outcome.input = input;
      return outcome;
    } catch (const std::exception& e) {
      stop();
      return failed("the worker process gave an unreadable result: " + std::string(e.what()));
    }
  }

  // The worker is gone. Its temporaries are removed before it is reaped, so that no new
  // process can have its id yet.
  siginfo_t end{};
  while (waitid(P_PID, static_cast<id_t>(pid_), &end, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  remove_temporaries(output_folder_of(config.output_dir, input), pid_);
  remove_temporaries(batch_report_root(config) / input.relative, pid_);
  const bool was_signalled = signalled_;
  stop();
  outcome.frames = report.progress.frames;
  if (was_signalled && !report.crash) {
    outcome.status = "cancelled";
    outcome.error = input.path + ": cancelled; its outputs were removed";
    return outcome;
  }
  outcome.status = "failed";
  outcome.error = ended_without_outcome(config, input, report, end);
  return outcome;
}

}  // namespace framepipe
