// The worker process of `pipeline.isolation: process` (pipeline/isolated_file.h): one file of a
// batch, its progress and its outcome written back to the parent on descriptor 3.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "pipeline/batch_file.h"
#include "pipeline/isolated_file.h"
#include "pipeline/json_text.h"
#include "pipeline/manifest.h"

namespace framepipe {

namespace {

namespace fs = std::filesystem;

bool write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(kWorkerDescriptor, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// The next job line from the parent, or nullopt when the stream ends. `pending` keeps what was
// read past it.
std::optional<std::string> read_job(std::string& pending) {
  for (;;) {
    if (const auto end = pending.find('\n'); end != std::string::npos) {
      auto line = pending.substr(0, end);
      pending.erase(0, end + 1);
      return line;
    }
    char chunk[4096];
    const auto got = ::read(kWorkerDescriptor, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return std::nullopt;
    pending.append(chunk, static_cast<std::size_t>(got));
  }
}

// Which stage call each thread is in, so that a crash can name the stage and the frame. Read by
// the fatal-signal handler on the crashing thread: only a thread_local array of plain values.
struct CallInProgress {
  std::size_t stage;
  std::int64_t frame;
};
constexpr int kMaxDepth = 16;
thread_local std::array<CallInProgress, kMaxDepth> open_calls;
thread_local int depth = 0;

class CallTracker : public StageObserver {
 public:
  void on_entry(const StageCall& call) override {
    if (depth < kMaxDepth) open_calls[depth] = {call.stage, call.frame};
    ++depth;
  }
  void on_exit(const StageCall&) override { --depth; }
};

// The lines the fatal-signal handler writes, made before the run: {"crashed": {"signal": N,
// "stage": i, "frame": F}}, with the numbers formatted in the handler without allocating.
constexpr std::array kFatalSignals = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};
std::array<struct sigaction, kFatalSignals.size()> previous_actions;

// Appends `value` in decimal at `out` (room for 21 characters); returns the end.
char* format_number(char* out, std::int64_t value) {
  char digits[21];
  int count = 0;
  const bool negative = value < 0;
  auto magnitude =
      negative ? -static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  if (negative) *out++ = '-';
  while (count > 0) *out++ = digits[--count];
  return out;
}

char* append(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// Tells the parent which signal hit which stage call, then lets the signal take its course
// through the handler that was there before (the default, or a sanitizer's report).
extern "C" void on_fatal_signal(int signal_number) {
  char line[128];
  char* out = append(line, R"({"crashed":{"signal":)");
  out = format_number(out, signal_number);
  if (depth > 0 && depth <= kMaxDepth) {
    const auto& call = open_calls[depth - 1];
    out = append(out, R"(,"stage":)");
    out = format_number(out, static_cast<std::int64_t>(call.stage));
    out = append(out, R"(,"frame":)");
    out = format_number(out, call.frame);
  }
  out = append(out, "}}\n");
  [[maybe_unused]] const auto written = ::write(kWorkerDescriptor, line, out - line);
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    if (kFatalSignals[i] == signal_number) sigaction(signal_number, &previous_actions[i], nullptr);
  }
  raise(signal_number);
}

void report_crashes() {
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    sigaction(kFatalSignals[i], &action, &previous_actions[i]);
  }
}

// Sends {"frames": N, "in_flight": M, "expected_frames": E, "frame_rate": R} every 100 ms
// while the run goes on, when it changed.
class ProgressReporter {
 public:
  ProgressReporter(const RunProgress& run, const FlightBudget& budget, std::mutex& write_mutex)
      : run_(run), budget_(budget), write_mutex_(write_mutex) {
    try {
      thread_ = std::thread([this] { loop(); });
    } catch (const std::system_error&) {
      // No thread to spare: the parent learns the frames with the outcome.
    }
  }
  ~ProgressReporter() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    nlohmann::json sent;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return done_; })) {
      const nlohmann::json now = {{"frames", run_.frames.load()},
                                  {"in_flight", budget_.in_use()},
                                  {"expected_frames", run_.expected_frames.load()},
                                  {"frame_rate", run_.frame_rate.load()}};
      if (now == sent) continue;
      sent = now;
      std::lock_guard write_lock(write_mutex_);
      write_all(now.dump() + "\n");
    }
  }

  const RunProgress& run_;
  const FlightBudget& budget_;
  std::mutex& write_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

// The jobs' config, exactly as the parent holds it, loaded (and its stages checked) once for
// all the files of a batch; or a one-line reason why not.
class JobConfig {
 public:
  explicit JobConfig(const Registry& registry) : registry_(registry) {}

  const Config& of(const nlohmann::json& job) {
    const auto key = job.at("config").get<std::string>() + '\0' +
                     job.at("output_dir").get<std::string>() + '\0' +
                     job.at("report_dir").get<std::string>();
    if (key == key_) return config_;
    try {
      config_ = load_config_text(job.at("config").get<std::string>(),
                                 job.at("origin").get<std::string>(), {}, registry_);
    } catch (const ConfigError& error) {
      throw std::runtime_error("the worker process could not load the config: " +
                               error.problems().front());
    }
    // Folder names come as the bytes they are (json_text.h); the config's text escapes them.
    config_.output_dir = unescape_invalid_utf8(job.at("output_dir").get<std::string>());
    config_.report_dir = unescape_invalid_utf8(job.at("report_dir").get<std::string>());
    if (config_fingerprint(config_) != job.at("fingerprint").get<std::string>()) {
      throw std::runtime_error(
          "the worker process read the config differently from the batch (a string that is not "
          "UTF-8?); run it with pipeline.isolation: thread");
    }
    key_ = key;
    return config_;
  }

 private:
  const Registry& registry_;
  std::string key_;
  Config config_;
};

// One job: its file run here, its progress and outcome written back.
bool run_job(const nlohmann::json& job, JobConfig& configs, const std::atomic<bool>* cancel) {
  FileOutcome outcome;
  fs::path report_root;
  std::mutex write_mutex;
  try {
    outcome.input = {unescape_invalid_utf8(job.at("input").get<std::string>()),
                     unescape_invalid_utf8(job.at("relative").get<std::string>())};
    const auto& config = configs.of(job);
    report_root = batch_report_root(config);
    FlightBudget budget(config.max_frames_in_flight);
    RunProgress live;
    // Stage indices in a crash line mean this config's stages: the parent has the same.
    CallTracker tracker;
    std::vector<StageObserver*> observers = {&tracker};
    ProgressReporter progress(live, budget, write_mutex);
    outcome = run_batch_file(config, outcome.input,
                             {nullptr, &budget, cancel, &live, std::move(observers)});
  } catch (const std::exception& e) {
    outcome.status = "failed";
    outcome.error = outcome.input.path + ": " + e.what();
  }
  std::lock_guard lock(write_mutex);
  return write_all(dump_json(nlohmann::json{{"outcome", file_outcome_json(outcome, report_root)}}) +
                   "\n");
}

}  // namespace

int file_worker_main(const std::string& parent_pid, const Registry& registry,
                     const std::atomic<bool>* cancel) {
  // A batch that dies (even by SIGKILL) takes its workers along: they cancel as on SIGTERM.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (std::to_string(getppid()) != parent_pid) return 1;  // the parent died before prctl
  report_crashes();
  JobConfig configs(registry);
  std::string pending;
  while (const auto line = read_job(pending)) {
    const auto job = nlohmann::json::parse(*line, nullptr, false);
    if (!job.is_object()) return 1;  // not a batch's job: nothing to answer to
    if (!run_job(job, configs, cancel)) return 1;
  }
  return 0;
}

}  // namespace framepipe
