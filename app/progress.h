#pragma once

// The progress of `framepipe run`, one file or a batch: a line on stderr (redrawn in place on a
// terminal, a plain line every 5 s elsewhere) and, with --progress, JSON Lines for scripts.
// It reads the run's counters twice a second and takes no lock per frame.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "pipeline/batch.h"
#include "pipeline/run.h"

namespace framepipe::app {

// The progress at one moment. Optional figures are unknown (shown as "-", written as null).
struct ProgressFigures {
  double elapsed_s = 0;
  std::int64_t frames = 0;
  std::optional<std::int64_t> expected_frames;
  double fps = 0;  // frames / elapsed
  std::optional<double> percent;
  std::optional<double> eta_s;
  std::optional<double> speed;  // media seconds done per second (x realtime)
  std::optional<BatchProgress::Snapshot> batch;
};

// Work done per second over the last kWindow seconds: the ETA follows what the run does now, not
// its start (opening files, the first frames through an empty pipeline).
class RecentRate {
 public:
  static constexpr double kWindow = 10;
  void add(double elapsed_s, double done);
  // Nullopt until some work was done.
  std::optional<double> per_second() const;

 private:
  std::deque<std::pair<double, double>> points_;  // (elapsed, done)
};

// Turns a run's or a batch's counters into figures; one per display.
class ProgressMeter {
 public:
  explicit ProgressMeter(const RunProgress& run) : run_(&run) { rate_.add(0, 0); }
  explicit ProgressMeter(BatchProgress& batch) : batch_(&batch) { rate_.add(0, 0); }
  ProgressFigures measure(double elapsed_s);

 private:
  ProgressFigures measure_run(double elapsed_s);
  ProgressFigures measure_batch(double elapsed_s);

  const RunProgress* run_ = nullptr;
  BatchProgress* batch_ = nullptr;
  RecentRate rate_;
  double media_seconds_finished_ = 0;  // of the finished files whose frame rate is known
  bool media_known_ = false;
};

// "frame 1234/3000 (41%), 45 fps, elapsed 0:27, ETA 0:39, speed 1.80x" (a batch's starts with
// its files).
std::string progress_text(const ProgressFigures& figures);
// One JSON object, no newline (docs/progress.md). `status`: the run's, for the last one.
std::string progress_json(const ProgressFigures& figures, const std::string& state,
                          const std::string& status = "");

// Where --progress writes: a file, or standard output for "-" (whose other output then goes to
// stderr, so the stream stays JSON Lines).
class ProgressStream {
 public:
  // Nullopt (after one error line) when `target` cannot be opened for writing.
  static std::optional<ProgressStream> open(const std::string& target);
  ProgressStream(ProgressStream&& other) noexcept
      : file_(std::exchange(other.file_, nullptr)), name_(std::move(other.name_)) {}
  ProgressStream(const ProgressStream&) = delete;
  ProgressStream& operator=(const ProgressStream&) = delete;
  ProgressStream& operator=(ProgressStream&&) = delete;
  ~ProgressStream();
  // Writes one line and flushes it, so a reader sees each update as it comes.
  void write_line(const std::string& line);

 private:
  ProgressStream(std::FILE* file, std::string name) : file_(file), name_(std::move(name)) {}
  std::FILE* file_;
  std::string name_;
  bool failed_ = false;
};

// Shows a run's progress from a thread of its own until finish(): on stderr unless `quiet`
// (redrawn twice a second on a terminal, a "progress:" line every 5 s elsewhere), and as a JSON
// line twice a second into `stream` when given.
class ProgressDisplay {
 public:
  ProgressDisplay(ProgressMeter meter, bool quiet, ProgressStream* stream);
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;
  ~ProgressDisplay();
  // Prints a message without tearing the status line.
  void print(const std::string& line, bool error);
  // Stops the display, clears its line and writes the stream's last object ("state": "end"),
  // with the run's status. Call once the run's counters are final.
  void finish(const std::string& status);

 private:
  void loop();
  double elapsed_s() const;
  void stop();

  ProgressMeter meter_;
  const bool show_;
  const bool terminal_;
  ProgressStream* stream_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace framepipe::app
