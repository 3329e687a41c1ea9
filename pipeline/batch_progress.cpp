// A batch's live figures (BatchProgress in pipeline/batch.h), for progress displays.
#include "pipeline/batch.h"
#include "pipeline/threads.h"

namespace framepipe {

void BatchProgress::set_totals(int files, std::uintmax_t bytes) {
  std::lock_guard lock(mutex_);
  total_ = files;
  bytes_total_ = bytes;
}

RunProgress& BatchProgress::started(const BatchInput& input, std::uintmax_t bytes) {
  std::lock_guard lock(mutex_);
  auto& file = running_.emplace_back();
  file.input = input.path;
  file.bytes = bytes;
  file.start_ns = steady_now_ns();
  return file.run;
}

void BatchProgress::ended(const RunProgress* run, const FileOutcome& outcome,
                          const std::function<std::uintmax_t()>& file_bytes) {
  // The size started() was given, so that a file is not looked at again as it ends.
  std::optional<std::uintmax_t> started_bytes;
  std::lock_guard lock(mutex_);
  // The running entry goes and the outcome's frames come in one step, so the batch's frames
  // never step back (a run's frames leaving the pipeline end equal to its outcome's).
  const double frame_rate = run ? run->frame_rate.load() : 0.0;
  running_.remove_if([run, &started_bytes](const Running& file) {
    if (&file.run != run) return false;
    started_bytes = file.bytes;
    return true;
  });
  const auto bytes = started_bytes ? *started_bytes : file_bytes();
  frames_finished_ += outcome.frames;
  bytes_finished_ += bytes;
  ++finished_;
  if (outcome.status == "failed") ++failed_;
  if (!lists_finished_files_) return;
  finished_files_.push_back({outcome.input.path, outcome.status, outcome.frames,
                             outcome.expected_frames, frame_rate, bytes, outcome.wall_s});
}

BatchProgress::Snapshot BatchProgress::snapshot() {
  const auto now = steady_now_ns();
  std::lock_guard lock(mutex_);
  Snapshot snapshot;
  snapshot.total = total_;
  snapshot.finished = finished_;
  snapshot.failed = failed_;
  snapshot.bytes_total = bytes_total_;
  snapshot.bytes_finished = bytes_finished_;
  snapshot.frames = frames_finished_;
  snapshot.finished_files.swap(finished_files_);
  for (const auto& file : running_) {
    FileProgress entry{file.input,
                       "running",
                       file.run.frames.load(std::memory_order_relaxed),
                       file.run.expected_frames.load(std::memory_order_relaxed),
                       file.run.frame_rate.load(std::memory_order_relaxed),
                       file.bytes,
                       static_cast<double>(now - file.start_ns) / 1e9};
    snapshot.frames += entry.frames;
    snapshot.running.push_back(std::move(entry));
  }
  return snapshot;
}

}  // namespace framepipe
