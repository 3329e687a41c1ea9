// `framepipe run --mpi` under mpirun: rank 0 hands the batch's files out, largest first, to the
// ranks that ask for work, and gathers their results into one batch report; every other rank
// runs the files it is given with run_batch_from (its own oneTBB arena, files_in_parallel at
// once). Rank 0 processes no files itself unless it is the only rank. docs/distributed.md.
#include <mpi.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "app/commands.h"
#include "pipeline/batch.h"
#include "pipeline/json_text.h"
#include "pipeline/safe_text.h"
#include "pipeline/shard.h"
#include "pipeline/threads.h"

namespace framepipe::app {

namespace {

using Clock = std::chrono::steady_clock;

// Message tags. Workers send kRequest (give me a file), kResult (a file's outcome), kHeartbeat
// (every second, from a thread of their own) and kStats (when done); rank 0 answers a request
// with kWork or kNoMoreWork.
enum Tag : int { kRequest = 1, kWork, kNoMoreWork, kResult, kHeartbeat, kStats };

constexpr auto kPoll = std::chrono::milliseconds(2);
constexpr auto kHeartbeatPeriod = std::chrono::seconds(1);

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// One MPI call at a time (the library is initialized MPI_THREAD_SERIALIZED): the worker's file
// threads and its heartbeat thread share it.
std::mutex mpi_mutex;

void send(const std::string& text, int to, int tag) {
  std::lock_guard lock(mpi_mutex);
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

struct Message {
  int from = 0;
  int tag = 0;
  std::string text;
};

// The next message from `from` (MPI_ANY_SOURCE for any) with `tag` (MPI_ANY_TAG for any), or
// nullopt when none has arrived. Polling, rather than a blocking receive, lets the caller give
// up on a peer that died.
std::optional<Message> poll(int from, int tag) {
  std::lock_guard lock(mpi_mutex);
  int found = 0;
  MPI_Status status;
  if (MPI_Iprobe(from, tag, MPI_COMM_WORLD, &found, &status) != MPI_SUCCESS || !found) {
    return std::nullopt;
  }
  int size = 0;
  MPI_Get_count(&status, MPI_CHAR, &size);
  Message message{status.MPI_SOURCE, status.MPI_TAG,
                  std::string(static_cast<std::size_t>(size), '\0')};
  MPI_Recv(message.text.data(), size, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return message;
}

// Sets `ranks_lost` when a worker went silent past --mpi-timeout.
int coordinate(const Config& config, const std::vector<BatchInput>& inputs,
               const RunOptions& options, int ranks, const nlohmann::json& extra,
               bool& ranks_lost) {
  const auto start = Clock::now();
  const auto report_root = batch_report_root(config);
  const auto weights = file_weights(inputs);
  const auto order = largest_first(weights.sizes, weights.keys);
  std::size_t next = 0;

  struct Worker {
    Clock::time_point last_heard = Clock::now();
    bool finished = false;  // sent its stats
    bool lost = false;      // silent past --mpi-timeout
    std::set<std::size_t> running;
    int files = 0, failed = 0;
    std::int64_t frames = 0;
    nlohmann::json stats = nlohmann::json::object();
  };
  std::map<int, Worker> workers;
  for (int rank = 1; rank < ranks; ++rank) workers[rank];
  std::vector<std::optional<FileOutcome>> results(inputs.size());
  // When each file was handed out: its start on the batch report's timeline.
  std::vector<double> handed_out_s(inputs.size(), 0.0);

  const auto fail = [&](std::size_t i, const std::string& error) {
    FileOutcome file;
    file.input = inputs[i];
    file.status = "failed";
    file.error = inputs[i].path + ": " + error;
    spdlog::error("{}", file.error);
    results[i] = std::move(file);
  };
  const auto active = [&] {
    for (const auto& [rank, worker] : workers) {
      if (!worker.finished && !worker.lost) return true;
    }
    return false;
  };
  while (active()) {
    auto message = poll(MPI_ANY_SOURCE, MPI_ANY_TAG);
    if (message) {
      auto& worker = workers[message->from];
      worker.last_heard = Clock::now();
      if (worker.lost) continue;  // declared lost; whatever it still says comes too late
      if (message->tag == kRequest) {
        if (next < order.size() && !cancel_requested()) {
          const auto i = order[next++];
          worker.running.insert(i);
          handed_out_s[i] = seconds_since(start);
          send(dump_json(
                   nlohmann::json{
                       {"index", i}, {"path", inputs[i].path}, {"relative", inputs[i].relative}},
                   -1),
               message->from, kWork);
        } else {
          send("", message->from, kNoMoreWork);
        }
      } else if (message->tag == kResult) {
        const auto json = nlohmann::json::parse(message->text);
        const auto i = json.at("index").get<std::size_t>();
        auto file = file_outcome_from_json(json.at("file"), report_root);
        // On the timeline, each rank's files_in_parallel slots are the batch's slots, and the
        // times rank 0's: from handing the file out to its result.
        file.slot = (message->from - 1) * std::max(1, config.files_in_parallel) + file.slot;
        file.start_s = handed_out_s[i];
        file.end_s = seconds_since(start);
        if (file.status == "failed") spdlog::error("{}", file.error);
        if (options.verbose)
          std::fprintf(stderr, "%s: %s (rank %d)\n", file.status.c_str(),
                       safe_line(file.input.path).c_str(), message->from);
        worker.running.erase(i);
        ++worker.files;
        worker.frames += file.frames;
        worker.failed += file.status == "failed";
        results[i] = std::move(file);
      } else if (message->tag == kStats) {
        worker.stats = nlohmann::json::parse(message->text);
        worker.finished = true;
      }
      continue;
    }
    for (auto& [rank, worker] : workers) {
      if (worker.finished || worker.lost ||
          seconds_since(worker.last_heard) < options.mpi_timeout_s) {
        continue;
      }
      worker.lost = true;
      spdlog::error(
          "MPI rank {} sent nothing for {:.0f} s: counted as lost, its {} file(s) in "
          "progress as failed",
          rank, options.mpi_timeout_s, worker.running.size());
      for (const auto i : worker.running) {
        fail(i, "MPI rank " + std::to_string(rank) + " was lost while processing it");
        ++worker.failed;
      }
      worker.running.clear();
    }
    std::this_thread::sleep_for(kPoll);
  }

  BatchResult result;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!results[i]) {
      FileOutcome file;
      file.input = inputs[i];
      if (cancel_requested()) {
        file.status = "cancelled";
        file.error = "not started: the batch was cancelled";
      } else {
        file.status = "failed";
        file.error = inputs[i].path + ": no MPI rank was left to process it";
        spdlog::error("{}", file.error);
      }
      results[i] = std::move(file);
    }
    result.files.push_back(std::move(*results[i]));
  }
  result.wall_s = seconds_since(start);
  result.cancelled = cancel_requested();
  result.flight_capacity = config.max_frames_in_flight;
  auto report = batch_report(config, result);
  auto& batch = report.head;
  batch.update(extra);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [rank, worker] : workers) {
    rows.push_back({{"rank", rank},
                    {"host", worker.stats.value("host", std::string())},
                    {"files", worker.files},
                    {"frames", worker.frames},
                    {"failed", worker.failed},
                    {"busy_s", worker.stats.value("busy_s", 0.0)},
                    {"idle_s", worker.stats.value("idle_s", 0.0)},
                    {"wall_s", worker.stats.value("wall_s", 0.0)},
                    {"lost", worker.lost}});
  }
  batch["ranks"] = rows;
  ranks_lost = std::any_of(workers.begin(), workers.end(),
                           [](const auto& entry) { return entry.second.lost; });
  batch["mpi"] = {{"ranks", ranks}, {"workers", ranks - 1}, {"timeout_s", options.mpi_timeout_s}};
  return finish_batch(config, std::move(report), options.resume);
}

// A worker rank: asks rank 0 for a file whenever one of its files_in_parallel slots is free.
void work(const Config& config, const RunOptions& options, int rank,
          const std::string& manifest_name) {
  std::mutex heartbeat_mutex;
  std::condition_variable heartbeat_wake;
  bool done = false;
  std::thread heartbeat([&] {
    std::unique_lock lock(heartbeat_mutex);
    while (!heartbeat_wake.wait_for(lock, kHeartbeatPeriod, [&] { return done; })) {
      send("", 0, kHeartbeat);
    }
  });

  double idle_s = 0;
  double busy_s = 0;
  bool coordinator_gone = false;
  // Input path → its index at rank 0; next() and on_file_done run on different threads.
  std::mutex index_mutex;
  std::map<std::string, std::size_t> index_of;
  const InputProvider next = [&]() -> std::optional<BatchInput> {
    if (coordinator_gone) return std::nullopt;
    const auto asked = Clock::now();
    send("", 0, kRequest);
    for (;;) {
      if (auto reply = poll(0, MPI_ANY_TAG)) {
        idle_s += seconds_since(asked);
        if (reply->tag == kNoMoreWork) return std::nullopt;
        const auto json = nlohmann::json::parse(reply->text);
        BatchInput input{unescape_invalid_utf8(json.at("path").get<std::string>()),
                         unescape_invalid_utf8(json.at("relative").get<std::string>())};
        std::lock_guard lock(index_mutex);
        index_of[input.path] = json.at("index").get<std::size_t>();
        return input;
      }
      if (seconds_since(asked) > options.mpi_timeout_s) {
        spdlog::error("rank {}: rank 0 did not answer for {:.0f} s; stopping", rank,
                      options.mpi_timeout_s);
        coordinator_gone = true;
        return std::nullopt;
      }
      std::this_thread::sleep_for(kPoll);
    }
  };
  BatchOptions batch_options;
  batch_options.resume = options.resume;
  batch_options.cancel = &cancel_requested();
  batch_options.manifest_name = manifest_name;
  const auto report_root = batch_report_root(config);
  batch_options.on_file_done = [&](const FileOutcome& file) {
    busy_s += file.wall_s;
    std::size_t index = 0;
    {
      std::lock_guard lock(index_mutex);
      index = index_of[file.input.path];
    }
    send(
        dump_json(nlohmann::json{{"index", index}, {"file", file_outcome_json(file, report_root)}}),
        0, kResult);
  };
  const auto result = run_batch_from(config, next, batch_options);
  if (!result.manifest_error.empty()) {
    spdlog::error("rank {}: {}; --resume would redo {} completed file(s)", rank,
                  result.manifest_error, result.unrecorded);
  }
  {
    std::lock_guard lock(heartbeat_mutex);
    done = true;
  }
  heartbeat_wake.notify_all();
  heartbeat.join();
  send(
      nlohmann::json{
          {"host", host_name()}, {"wall_s", result.wall_s}, {"busy_s", busy_s}, {"idle_s", idle_s}}
          .dump(),
      0, kStats);
}

}  // namespace

int run_mpi_batch_command(const Config& config, const std::vector<BatchInput>& inputs,
                          const RunOptions& options, const std::string& name,
                          const nlohmann::json& extra) {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS ||
      provided < MPI_THREAD_SERIALIZED) {
    spdlog::error("--mpi: MPI could not start with MPI_THREAD_SERIALIZED");
    return kConfigError;
  }
  // Errors come back as return codes instead of aborting every rank at once.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0;
  int ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  int code = kOk;
  auto mpi_extra = extra;
  if (ranks == 1) {
    spdlog::warn(
        "--mpi with a single rank: processing every file here (start it with mpirun -n "
        "N, N >= 2)");
    code = run_local_batch(config, inputs, options, name, mpi_extra);
  } else if (rank == 0) {
    bool ranks_lost = false;
    code = coordinate(config, inputs, options, ranks, mpi_extra, ranks_lost);
    if (ranks_lost) {
      // MPI_Finalize waits for every rank, the dead one too: Open MPI 4.1 then left the
      // survivors spinning in it after the batch had ended. The report is written and every
      // other rank has finished, so rank 0 ends the job (under --enable-recovery mpirun still
      // exits 0: batch.json says how the batch went).
      spdlog::warn("--mpi: a rank was lost, so rank 0 ends the MPI job (MPI_Abort, code {})", code);
      MPI_Abort(MPI_COMM_WORLD, code);
    }
  } else {
    work(config, options, rank, (name.empty() ? "" : name + "-") + "rank-" + std::to_string(rank));
  }
  MPI_Finalize();
  // Only rank 0's exit code says how the batch went: with Open MPI a rank that exits non-zero
  // before the others makes mpirun abort the job.
  return code;
}

}  // namespace framepipe::app
