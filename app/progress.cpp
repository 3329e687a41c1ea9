#include "app/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "pipeline/safe_text.h"
#include "pipeline/text_format.h"

namespace framepipe::app {

namespace {

std::string duration_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  }
  return text;
}

using Json = nlohmann::ordered_json;  // keys in the order written: "state" first

Json or_null(const auto& value) { return value ? Json(*value) : Json(); }

Json file_json(const FileProgress& file) {
  Json entry = {
      {"input", redact_credentials(file.input)},
      {"status", file.status},
      {"frames", file.frames},
      {"expected_frames", file.expected_frames > 0 ? Json(file.expected_frames) : Json()}};
  if (file.status == "running") entry["elapsed_s"] = file.elapsed_s;
  return entry;
}

// The share of a file that is done: frames out of those expected; 0 when it does not say.
double done_share(const FileProgress& file) {
  if (file.expected_frames <= 0) return 0;
  return std::min(1.0,
                  static_cast<double>(file.frames) / static_cast<double>(file.expected_frames));
}

}  // namespace

void RecentRate::add(double elapsed_s, double done) {
  points_.emplace_back(elapsed_s, done);
  while (points_.size() > 2 && points_[1].first <= elapsed_s - kWindow) points_.pop_front();
}

std::optional<double> RecentRate::per_second() const {
  if (points_.size() < 2) return std::nullopt;
  const auto& [t0, done0] = points_.front();
  const auto& [t1, done1] = points_.back();
  if (t1 > t0 && done1 > done0) return (done1 - done0) / (t1 - t0);
  return std::nullopt;
}

ProgressFigures ProgressMeter::measure(double elapsed_s) {
  auto figures = run_ ? measure_run(elapsed_s) : measure_batch(elapsed_s);
  figures.elapsed_s = elapsed_s;
  figures.fps = elapsed_s > 0 ? static_cast<double>(figures.frames) / elapsed_s : 0;
  return figures;
}

ProgressFigures ProgressMeter::measure_run(double elapsed_s) {
  ProgressFigures figures;
  figures.frames = run_->frames.load(std::memory_order_relaxed);
  const auto expected = run_->expected_frames.load(std::memory_order_relaxed);
  const auto frame_rate = run_->frame_rate.load(std::memory_order_relaxed);
  rate_.add(elapsed_s, static_cast<double>(figures.frames));
  if (expected > 0) {
    figures.expected_frames = expected;
    figures.percent = std::min(
        100.0, 100.0 * static_cast<double>(figures.frames) / static_cast<double>(expected));
    if (const auto rate = rate_.per_second()) {
      figures.eta_s =
          static_cast<double>(std::max<std::int64_t>(0, expected - figures.frames)) / *rate;
    }
  }
  if (frame_rate > 0 && elapsed_s > 0) {
    figures.speed = static_cast<double>(figures.frames) / frame_rate / elapsed_s;
  }
  return figures;
}

// A batch's work is its inputs' bytes (or its files, when no size is known): finished files
// count whole, running ones by their frames out of those expected.
ProgressFigures ProgressMeter::measure_batch(double elapsed_s) {
  ProgressFigures figures;
  auto snapshot = batch_->snapshot();
  figures.frames = snapshot.frames;
  const bool by_bytes = snapshot.bytes_total > 0;
  const double total = by_bytes ? static_cast<double>(snapshot.bytes_total) : snapshot.total;
  double done = by_bytes ? static_cast<double>(snapshot.bytes_finished) : snapshot.finished;
  for (const auto& file : snapshot.finished_files) {
    if (file.frame_rate > 0) {
      media_seconds_finished_ += static_cast<double>(file.frames) / file.frame_rate;
      media_known_ = true;
    }
  }
  double media_s = media_seconds_finished_;
  bool media_known = media_known_;
  bool expected_known =
      snapshot.finished + static_cast<int>(snapshot.running.size()) == snapshot.total;
  std::int64_t expected = snapshot.frames;
  for (const auto& file : snapshot.running) {
    done += (by_bytes ? static_cast<double>(file.bytes) : 1.0) * done_share(file);
    if (file.frame_rate > 0) {
      media_s += static_cast<double>(file.frames) / file.frame_rate;
      media_known = true;
    }
    expected_known = expected_known && file.expected_frames > 0;
    expected += std::max<std::int64_t>(0, file.expected_frames - file.frames);
  }
  if (expected_known) figures.expected_frames = expected;
  rate_.add(elapsed_s, done);
  if (total > 0) {
    figures.percent = std::min(100.0, 100.0 * done / total);
    if (const auto rate = rate_.per_second()) figures.eta_s = std::max(0.0, total - done) / *rate;
  }
  if (media_known && elapsed_s > 0) figures.speed = media_s / elapsed_s;
  figures.batch = std::move(snapshot);
  return figures;
}

std::string progress_text(const ProgressFigures& figures) {
  std::string text;
  if (figures.batch) {
    const auto& batch = *figures.batch;
    text = format("files %d/%d done (%d failed), %zu running, %lld frames", batch.finished,
                  batch.total, batch.failed, batch.running.size(),
                  static_cast<long long>(figures.frames));
  } else {
    text = format("frame %lld/%s", static_cast<long long>(figures.frames),
                  figures.expected_frames ? std::to_string(*figures.expected_frames).c_str() : "?");
  }
  text += figures.percent ? format(" (%.0f%%)", *figures.percent) : " (-)";
  text += format(", %.0f fps, elapsed %s, ETA %s, speed %s", figures.fps,
                 duration_text(figures.elapsed_s).c_str(),
                 figures.eta_s ? duration_text(*figures.eta_s).c_str() : "-",
                 figures.speed ? format("%.2fx", *figures.speed).c_str() : "-");
  return text;
}

std::string progress_json(const ProgressFigures& figures, const std::string& state,
                          const std::string& status) {
  Json line = {{"state", state},
               {"elapsed_s", figures.elapsed_s},
               {"frames", figures.frames},
               {"expected_frames", or_null(figures.expected_frames)},
               {"fps", figures.fps},
               {"percent", or_null(figures.percent)},
               {"eta_s", or_null(figures.eta_s)},
               {"speed", or_null(figures.speed)}};
  if (!status.empty()) line["status"] = status;
  if (figures.batch) {
    const auto& batch = *figures.batch;
    line["files"] = {{"total", batch.total},
                     {"done", batch.finished},
                     {"failed", batch.failed},
                     {"running", batch.running.size()}};
    line["running"] = Json::array();
    for (const auto& file : batch.running) line["running"].push_back(file_json(file));
    line["finished"] = Json::array();
    for (const auto& file : batch.finished_files) line["finished"].push_back(file_json(file));
  }
  // Input names that are not UTF-8 are written as their bytes escaped, not refused.
  return line.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<ProgressStream> ProgressStream::open(const std::string& target) {
  if (target == "-") {
    // The stream takes standard output; what the run would print there goes to stderr.
    const int copy = dup(STDOUT_FILENO);
    std::FILE* file = copy >= 0 ? fdopen(copy, "w") : nullptr;
    if (!file) {
      spdlog::error("--progress -: cannot use standard output: {}", std::strerror(errno));
      return std::nullopt;
    }
    std::fflush(stdout);
    std::cout.flush();
    dup2(STDERR_FILENO, STDOUT_FILENO);
    return ProgressStream(file, "standard output");
  }
  std::FILE* file = std::fopen(target.c_str(), "w");
  if (!file) {
    spdlog::error("--progress '{}': cannot open it for writing: {}", target, std::strerror(errno));
    return std::nullopt;
  }
  return ProgressStream(file, "'" + target + "'");
}

ProgressStream::~ProgressStream() {
  if (file_) std::fclose(file_);
}

void ProgressStream::write_line(const std::string& line) {
  if (failed_) return;
  if (std::fputs((line + "\n").c_str(), file_) < 0 || std::fflush(file_) != 0) {
    // The run goes on without its progress stream (a reader that went away, a full disk).
    failed_ = true;
    spdlog::warn("--progress {}: cannot write: {}; no more progress is written", name_,
                 std::strerror(errno));
  }
}

ProgressDisplay::ProgressDisplay(ProgressMeter meter, bool quiet, ProgressStream* stream)
    : meter_(std::move(meter)),
      show_(!quiet),
      terminal_(isatty(STDERR_FILENO) != 0),
      stream_(stream),
      start_(std::chrono::steady_clock::now()) {
  if (!show_ && !stream_) return;
  try {
    thread_ = std::thread([this] { loop(); });
  } catch (const std::system_error&) {
    // No thread to spare: the run goes on without a progress display.
  }
}

ProgressDisplay::~ProgressDisplay() { stop(); }

void ProgressDisplay::print(const std::string& line, bool error) {
  std::lock_guard lock(mutex_);
  if (show_ && terminal_) std::cerr << "\r\033[K";
  if (error) {
    spdlog::error("{}", line);
  } else {
    std::cerr << line << "\n";
  }
}

void ProgressDisplay::finish(const std::string& status) {
  stop();
  if (stream_) stream_->write_line(progress_json(meter_.measure(elapsed_s()), "end", status));
}

double ProgressDisplay::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressDisplay::stop() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressDisplay::loop() {
  constexpr auto kTick = std::chrono::milliseconds(500);
  constexpr int kTicksPerPlainLine = 10;  // every 5 s when stderr is not a terminal
  std::unique_lock lock(mutex_);
  for (int tick = 1; !wake_.wait_for(lock, kTick, [this] { return done_; }); ++tick) {
    const auto figures = meter_.measure(elapsed_s());
    if (stream_) stream_->write_line(progress_json(figures, "running"));
    if (!show_) continue;
    if (terminal_) {
      std::cerr << "\r\033[K" << progress_text(figures) << std::flush;
    } else if (tick % kTicksPerPlainLine == 0) {
      std::cerr << "progress: " << progress_text(figures) << "\n";
    }
  }
  if (show_ && terminal_) std::cerr << "\r\033[K" << std::flush;
}

}  // namespace framepipe::app
