#include "pipeline/batch.h"

#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <numeric>
#include <set>
#include <system_error>
#include <thread>

#include "pipeline/batch_file.h"
#include "pipeline/flight_budget.h"
#include "pipeline/group_commit.h"
#include "pipeline/inputs.h"
#include "pipeline/isolated_file.h"
#include "pipeline/item.h"
#include "pipeline/manifest.h"
#include "pipeline/read_ahead.h"
#include "pipeline/run.h"

namespace framepipe {

namespace fs = std::filesystem;

namespace {

// Why a file's relative name cannot place its outputs and report ("" when it can): a name that
// is empty, "." or climbs out with ".." (a URL ending in "/..") would put them outside the output
// and report folders, or on top of the batch's own.
std::string unsafe_relative_name(const fs::path& relative) {
  const auto normal = relative.lexically_normal();
  if (normal.empty() || normal == "." || *normal.begin() == ".." || normal.is_absolute()) {
    return "its name '" + relative.string() +
           "' would put its outputs and report outside their folders; give it a file name";
  }
  return "";
}

class BatchRun {
 public:
  // `images`: inputs that go through one graph together (run_items), on the first worker; that
  // run's report goes to <report root>/<images_report_name>.
  BatchRun(const Config& config, const InputProvider& next, const BatchOptions& options,
           int max_workers, std::vector<BatchInput> images = {},
           std::string images_report_name = "")
      : config_(config),
        next_input_(next),
        images_(std::move(images)),
        images_report_name_(std::move(images_report_name)),
        options_(options),
        threads_(config.threads > 0 ? config.threads : oneapi::tbb::info::default_concurrency()),
        // Each file's thread waits in the arena for its graph; reserving it a slot lets it
        // work there instead of blocking outside.
        arena_(threads_, static_cast<unsigned>(std::min(config.files_in_parallel, threads_))),
        budget_(config.max_frames_in_flight),
        manifest_(config.output_dir, options.manifest_name, options.resume),
        fingerprint_(config_fingerprint(config)),
        parallel_(std::max(1, std::min(config.files_in_parallel, max_workers))),
        worker_config_(worker_config(config, threads_, parallel_)) {}

  BatchResult run() {
    const auto start = start_ns_;
    result_.flight_capacity = budget_.capacity();
    // When the system refuses a thread (std::system_error), the batch goes on with those it
    // has: without budget samples, with fewer files at once, or on this thread alone.
    std::thread sampler;
    try {
      sampler = std::thread([this, start] { sample_budget(start); });
    } catch (const std::system_error&) {
    }
    std::vector<std::thread> workers;
    try {
      for (int w = 0; w < parallel_; ++w) workers.emplace_back([this, w] { work(w); });
    } catch (const std::system_error&) {
      if (workers.empty()) work(0);
    }
    for (auto& worker : workers) worker.join();
    {
      std::lock_guard lock(sampler_mutex_);
      done_ = true;
    }
    sampler_wake_.notify_all();
    if (sampler.joinable()) sampler.join();
    result_.wall_s = static_cast<double>(steady_now_ns() - start) / 1e9;
    result_.cancelled = cancelled();
    result_.files = std::move(files_);
    return std::move(result_);
  }

 private:
  // An image whose outputs wait for their group's commit (pipeline/group_commit.h).
  struct UncommittedImage {
    FileOutcome* outcome;
    RunProgress* live;
  };
  using ImageCommits = GroupCommit<UncommittedImage>;
  // Images' outputs are put in place and recorded at least this many at a time (and an eighth
  // of those recorded before, as the folder grows: each group rewrites the whole manifest), or
  // after this long: a crash makes --resume redo at most the images of one group, or that long's.
  static constexpr std::size_t kImageGroup = 100;
  static constexpr std::chrono::seconds kImageGroupPeriod{1};
  // How far ahead of the source the images are read: a few decodes' time, a bounded amount.
  static constexpr std::size_t kImagesReadAhead = 16;
  static constexpr std::int64_t kImageReadAheadBytes = 8 << 20;

  bool cancelled() const { return options_.cancel && options_.cancel->load(); }

  double since_start_s() const { return static_cast<double>(steady_now_ns() - start_ns_) / 1e9; }

  void work(int slot) {
    if (slot == 0 && !images_.empty()) run_items(slot);
    // Under pipeline.isolation: process, this thread's worker process, kept for its files.
    FileWorker worker({options_.worker_program, options_.cancel});
    for (;;) {
      FileOutcome* taken = nullptr;
      {
        std::lock_guard lock(take_mutex_);
        auto input = next_input_();
        if (!input) return;
        taken = &files_.emplace_back();
        taken->input = std::move(*input);
      }
      auto& outcome = *taken;
      const double start_s = since_start_s();
      RunProgress* live = nullptr;  // the file's figures while it runs
      if (cancelled()) {
        outcome.status = "cancelled";
        outcome.error = "not started: the batch was cancelled";
      } else {
        process(outcome, worker, live);
      }
      outcome.slot = slot;
      outcome.start_s = start_s;
      outcome.end_s = since_start_s();
      finished(outcome, live);
    }
  }

  FileOutcome& take(BatchInput input) {
    std::lock_guard lock(take_mutex_);
    auto& taken = files_.emplace_back();
    taken.input = std::move(input);
    return taken;
  }

  // Settles what needs no run: a file complete from an earlier run (--resume), or one whose
  // name cannot place its outputs. True when it did.
  bool settled_without_run(FileOutcome& outcome) const {
    const auto& input = outcome.input;
    if (options_.resume && manifest_.is_complete(input.relative, input.path, fingerprint_)) {
      outcome.status = "skipped";
      return true;
    }
    if (const auto problem = unsafe_relative_name(input.relative); !problem.empty()) {
      outcome.status = "failed";
      outcome.error = input.path + ": " + problem;
      return true;
    }
    return false;
  }

  // The batch's images, all through one graph built once (pipeline/item.h): the source asks
  // for them one by one, and each ends as its own file's outcome; their outputs are put in
  // place and recorded in the manifest in groups, also those done before a Ctrl-C. Images the
  // run never reached (it was cancelled, or failed to start) end cancelled or failed.
  void run_items(int slot) {
    const double start_s = since_start_s();
    std::size_t next = 0;
    Config items_config = config_;
    items_config.input_path.clear();
    ImageCommits commits(kImageGroup, kImageGroupPeriod,
                         [this](std::vector<ImageCommits::Entry>& group) { committed(group); });
    RunEnvironment environment{&arena_, &budget_, options_.cancel, nullptr};
    std::size_t read_ahead_to = 0;  // the images before it have been read ahead
    environment.next_item = [&]() -> ItemPtr {
      while (next < images_.size() && !cancelled()) {
        // The source reads the images one by one: the next ones are on their way from the disk
        // while it decodes this one (the IO overlapped, not waited for in turn).
        for (; read_ahead_to < images_.size() && read_ahead_to <= next + kImagesReadAhead;
             ++read_ahead_to) {
          read_ahead(images_[read_ahead_to].path, kImageReadAheadBytes);
        }
        auto& outcome = take(std::move(images_[next++]));
        outcome.slot = slot;
        outcome.start_s = since_start_s();
        if (settled_without_run(outcome)) {
          outcome.end_s = outcome.start_s;
          finished(outcome, nullptr);
          continue;
        }
        const auto& input = outcome.input;
        RunProgress* live = options_.progress
                                ? &options_.progress->started(input, file_size_or_zero(input.path))
                                : nullptr;
        return std::make_shared<Item>(
            input.path, output_folder_of(config_.output_dir, input),
            [this, &outcome, live, &commits](Item& item, const Item::Outcome& done) {
              item_done(outcome, live, item, done, commits);
            });
      }
      return nullptr;
    };
    const auto run = run_pipeline(items_config, environment);
    commits.finish();
    if (config_.profile && run.has_report()) report_items_run(items_config, run, slot, start_s);
    while (next < images_.size()) {
      auto& outcome = take(std::move(images_[next++]));
      outcome.slot = slot;
      outcome.start_s = outcome.end_s = since_start_s();
      if (cancelled()) {
        outcome.status = "cancelled";
        outcome.error = "not started: the batch was cancelled";
      } else {
        outcome.status = "failed";
        outcome.error = outcome.input.path + ": " +
                        (run.error ? run.error->to_string() : "not read by the run");
      }
      finished(outcome, nullptr);
    }
    std::lock_guard lock(manifest_mutex_);
    if (unsaved_ > 0) save_manifest();
  }

  // The images' run as one entry of the batch, with its report: the stages' figures over all
  // the images, which the batch's own figures sum with the other files'.
  void report_items_run(const Config& items_config, const RunResult& run, int slot,
                        double start_s) {
    FileOutcome images;
    images.input.path = config_.input_path;
    images.input.relative = images_report_name_;
    images.status = run.status();
    images.frames = run.frames;
    images.wall_s = run.wall_s;
    images.slot = slot;
    images.start_s = start_s;
    images.end_s = since_start_s();
    images.report_dir = batch_report_root(config_) / images_report_name_;
    images.error = write_batch_report_of(items_config, run, images.report_dir);
    if (!images.error.empty()) images.report_dir.clear();
    result_.images_run = std::move(images);
  }

  // A done image: one that failed or was cancelled ends now (nothing of it was put in place);
  // one that is ok ends when its group is committed.
  void item_done(FileOutcome& outcome, RunProgress* live, Item& item, const Item::Outcome& done,
                 ImageCommits& commits) {
    outcome.status = done.status;
    outcome.error = done.error;
    outcome.frames = done.frames;
    outcome.outputs.assign(done.outputs.begin(), done.outputs.end());
    outcome.end_s = since_start_s();
    outcome.wall_s = outcome.end_s - outcome.start_s;
    if (outcome.status != "ok") return finished(outcome, live);
    commits.add({&outcome, live}, item.take_written());
  }

  // A group of images whose outputs are now in place: recorded in the manifest, saved once,
  // and only then reported done. An image whose output could not be put in place fails.
  void committed(std::vector<ImageCommits::Entry>& group) {
    {
      std::lock_guard lock(manifest_mutex_);
      for (auto& entry : group) {
        auto& outcome = *entry.tag.outcome;
        if (entry.error.empty()) {
          manifest_.add(outcome.input.relative, outcome.input.path, fingerprint_, outcome.status,
                        outcome.outputs);
          ++unsaved_;
          continue;
        }
        outcome.status = "failed";
        outcome.error = outcome.input.path + ": " + entry.error;
        outcome.outputs.clear();
      }
      if (unsaved_ > 0) save_manifest();
    }
    for (auto& entry : group) finished(*entry.tag.outcome, entry.tag.live);
  }

  void process(FileOutcome& outcome, FileWorker& worker, RunProgress*& live) {
    const auto& input = outcome.input;
    const auto key = input.relative;
    if (settled_without_run(outcome)) return;
    if (options_.progress) live = &options_.progress->started(input, file_size_or_zero(input.path));
    outcome = config_.isolation == Isolation::process ? run_in_worker(worker, input, live)
                                                      : run_here(input, live);
    if (outcome.status == "ok" || outcome.status == "damaged") record(key, outcome);
  }

  FileOutcome run_here(const BatchInput& input, RunProgress* live) {
    return run_batch_file(config_, input, {&arena_, &budget_, options_.cancel, live});
  }

  // The worker's progress goes into the batch's: its figures to the progress display, its
  // frames in flight to the budget samples.
  FileOutcome run_in_worker(FileWorker& worker, const BatchInput& input, RunProgress* live) {
    WorkerProgress last;
    auto outcome = worker.run(worker_config_, input, [&](const WorkerProgress& now) {
      if (live) {
        live->frames = now.frames;
        live->expected_frames = now.expected_frames;
        live->frame_rate = now.frame_rate;
      }
      worker_frames_in_flight_ += now.in_flight - last.in_flight;
      last = now;
    });
    worker_frames_in_flight_ -= last.in_flight;
    return outcome;
  }

  // What each worker process runs under pipeline.isolation: process: the batch's config with
  // an equal share of its threads and frames-in-flight budget, which workers cannot share.
  static Config worker_config(const Config& config, int threads, int parallel) {
    Config share = config;
    share.threads = std::max(1, threads / parallel);
    share.max_frames_in_flight = std::max(1, config.max_frames_in_flight / parallel);
    return share;
  }

  // A manifest that cannot be saved fails the batch (BatchResult::manifest_error), not the
  // file: its outputs are complete.
  void record(const std::string& key, const FileOutcome& outcome) {
    std::lock_guard lock(manifest_mutex_);
    manifest_.add(key, outcome.input.path, fingerprint_, outcome.status, outcome.outputs);
    ++unsaved_;
    save_manifest();
  }

  // With manifest_mutex_ held.
  void save_manifest() {
    try {
      manifest_.save();
      // A save writes every record so far: one that succeeds catches up on the failed ones.
      result_.manifest_error.clear();
      unsaved_ = 0;
    } catch (const std::exception& e) {
      result_.manifest_error = e.what();
    }
    result_.unrecorded = unsaved_;
  }

  void finished(const FileOutcome& outcome, const RunProgress* live) {
    std::lock_guard lock(done_mutex_);
    if (options_.progress)
      options_.progress->ended(live, outcome,
                               [&outcome] { return file_size_or_zero(outcome.input.path); });
    if (options_.on_file_done) options_.on_file_done(outcome);
  }

  void sample_budget(std::int64_t start) {
    std::unique_lock lock(sampler_mutex_);
    do {
      result_.budget_t.push_back(static_cast<double>(steady_now_ns() - start) / 1e9);
      result_.budget_in_use.push_back(budget_.in_use() + worker_frames_in_flight_.load());
    } while (
        !sampler_wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return done_; }));
  }

  const std::int64_t start_ns_ = steady_now_ns();
  const Config& config_;
  const InputProvider& next_input_;
  // Each moved into its outcome as run_items takes it: no second copy of every path (an
  // absolute path with its components is ~400 bytes).
  std::vector<BatchInput> images_;
  const std::string images_report_name_;
  const BatchOptions& options_;
  const int threads_;
  oneapi::tbb::task_arena arena_;
  FlightBudget budget_;
  Manifest manifest_;
  std::mutex manifest_mutex_;
  int unsaved_ = 0;  // completed files recorded since the last save that succeeded
  const std::string fingerprint_;
  const int parallel_;  // files at once
  const Config worker_config_;
  std::atomic<int> worker_frames_in_flight_{0};
  std::mutex take_mutex_;
  std::deque<FileOutcome> files_;  // in the order taken; a deque keeps references valid
  std::mutex done_mutex_;
  std::mutex sampler_mutex_;
  std::condition_variable sampler_wake_;
  bool done_ = false;
  BatchResult result_;
};

}  // namespace

int BatchResult::count(const std::string& status) const {
  return static_cast<int>(std::count_if(files.begin(), files.end(),
                                        [&](const FileOutcome& f) { return f.status == status; }));
}

std::int64_t BatchResult::frames() const {
  std::int64_t total = 0;
  for (const auto& file : files) total += file.frames;
  return total;
}

bool runs_as_item(const Config& config, const BatchInput& input) {
  return config.isolation == Isolation::thread && is_image_name(input.path) && takes_items(config);
}

BatchResult run_batch(const Config& config, std::vector<BatchInput> inputs,
                      const BatchOptions& options) {
  if (options.progress) {
    std::uintmax_t bytes = 0;
    for (const auto& input : inputs) bytes += file_size_or_zero(input.path);
    options.progress->set_totals(static_cast<int>(inputs.size()), bytes);
  }
  // The images' run's report folder: `images`, unless an input's report would be there. (The
  // names are gone before the run starts: a folder of thousands of images would keep them all.)
  const auto images_report_name = [&] {
    std::set<std::string> taken_names;
    for (const auto& input : inputs) {
      if (!input.relative.empty())
        taken_names.insert(input.relative.substr(0, input.relative.find('/')));
    }
    std::string name = "images";
    for (int n = 2; taken_names.count(name) > 0; ++n) name = "images-" + std::to_string(n);
    return name;
  }();
  // Images go through one graph together when every stage can take them as items; the other
  // files run one by one. Each list keeps the places its inputs had, and the inputs move into
  // them (and then into their outcomes), not copied.
  std::vector<BatchInput> images;
  std::vector<BatchInput> files;
  std::vector<std::size_t> image_places;
  std::vector<std::size_t> file_places;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool image = runs_as_item(config, inputs[i]);
    (image ? image_places : file_places).push_back(i);
    (image ? images : files).push_back(std::move(inputs[i]));
  }
  std::vector<BatchInput>().swap(inputs);
  std::size_t next = 0;
  const InputProvider provider = [&]() -> std::optional<BatchInput> {
    if (next >= files.size()) return std::nullopt;
    return std::move(files[next++]);
  };
  const int jobs = static_cast<int>(files.size() + (images.empty() ? 0 : 1));
  auto result =
      BatchRun(config, provider, options, jobs, std::move(images), images_report_name).run();
  if (image_places.empty() || file_places.empty()) return result;  // in input order already
  // The images' outcomes come in the images' order and the other files' in theirs (each list
  // is taken from in turn, under one lock): their places put them back in input order.
  std::vector<std::size_t> place(result.files.size());
  std::size_t images_seen = 0;
  std::size_t files_seen = 0;
  for (std::size_t i = 0; i < result.files.size(); ++i) {
    place[i] = runs_as_item(config, result.files[i].input) ? image_places.at(images_seen++)
                                                           : file_places.at(files_seen++);
  }
  // Places to ranks (a cancelled batch has outcomes for only some inputs), then put in place
  // by following each cycle of the permutation: no second list of outcomes, which a batch of
  // thousands of images would hold twice at its end.
  std::vector<std::size_t> order(place.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return place[a] < place[b]; });
  for (std::size_t rank = 0; rank < order.size(); ++rank) place[order[rank]] = rank;
  for (std::size_t start = 0; start < place.size(); ++start) {
    if (place[start] == start) continue;
    auto held = std::move(result.files[start]);
    auto to = place[start];
    while (to != start) {
      std::swap(held, result.files[to]);
      std::swap(to, place[to]);
    }
    result.files[start] = std::move(held);
    place[start] = start;
  }
  return result;
}

BatchResult run_batch_from(const Config& config, const InputProvider& next,
                           const BatchOptions& options) {
  return BatchRun(config, next, options, config.files_in_parallel).run();
}

}  // namespace framepipe
