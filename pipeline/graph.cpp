#include "pipeline/graph.h"

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/flow_graph.h>

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "pipeline/threads.h"

namespace framepipe {

namespace flow = oneapi::tbb::flow;

namespace {

using FrameNode = flow::function_node<FramePtr, FramePtr>;
using AsyncNode = flow::async_node<FramePtr, FramePtr>;

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Threads that ran a stage call, in any run of this process: oneTBB workers, io threads,
// sources. Any other thread that appears during a stage's first call was started by that stage
// (libav's or x264's workers). Process-wide, because runs of a batch share the workers.
std::mutex engine_threads_mutex;
std::set<int> engine_threads;

void note_engine_thread() {
  thread_local bool noted = false;
  if (noted) return;
  noted = true;
  std::lock_guard lock(engine_threads_mutex);
  engine_threads.insert(current_tid());
}

std::set<int> engine_thread_ids() {
  std::lock_guard lock(engine_threads_mutex);
  return engine_threads;
}

class GraphRun {
 public:
  GraphRun(const std::vector<GraphStage>& stages, FlightBudget& budget,
           FrameCompletions& completions, ThreadNames& names, std::string input_path,
           const GraphOptions& options)
      : stages_(stages),
        budget_(budget),
        completions_(completions),
        names_(names),
        input_path_(std::move(input_path)),
        options_(options) {}

  GraphOutcome execute() {
    build();
    graph_.reserve_wait();  // held by the source thread until it ends
    std::thread monitor = start_thread("its sampling", [this] { run_monitor(); });
    std::thread source;
    if (!stop_) source = start_thread("its source", [this] { run_source(); });
    if (!source.joinable()) graph_.release_wait();
    graph_.wait_for_all();
    if (source.joinable()) source.join();
    for (auto& worker : io_workers_) {
      for (std::size_t i = 0; i < worker->threads.size(); ++i) worker->queue.push(nullptr);
      for (auto& thread : worker->threads) thread.join();
    }
    {
      std::lock_guard lock(monitor_mutex_);
      graph_done_ = true;
    }
    monitor_wake_.notify_all();
    if (monitor.joinable()) monitor.join();
    const auto engine_threads = engine_thread_ids();
    for (const auto& stage : stages_) stage.metrics->forget_threads(engine_threads);
    std::lock_guard lock(error_mutex_);
    return {error_, std::move(samples_), arena_busy_ns_.load()};
  }

 private:
  struct IoWorker {
    oneapi::tbb::concurrent_bounded_queue<FramePtr> queue;
    std::vector<std::thread> threads;
    AsyncNode* node = nullptr;
  };

  // A thread running `body`; when the system refuses one (std::system_error: too many threads
  // for its limits), the run fails with that reason and an empty std::thread comes back.
  template <typename Body>
  std::thread start_thread(const std::string& what, Body&& body) {
    try {
      return std::thread(std::forward<Body>(body));
    } catch (const std::system_error& e) {
      fail(stages_.front(), -1, "cannot start a thread for " + what + ": " + e.what());
      return {};
    }
  }

  void fail(const GraphStage& stage, std::int64_t frame, const std::string& message) {
    {
      std::lock_guard lock(error_mutex_);
      if (!error_) {
        error_ = RunError{input_path_, stage.config->name, stage.config->type, frame, message};
      }
    }
    stop_ = true;
    budget_.wake_waiters();
  }

  // Runs `call` (which returns the index of the frame it handled, or -1) measured.
  template <typename Call>
  std::int64_t measured_call(const GraphStage& stage, Call&& call) {
    note_engine_thread();
    std::set<int> threads_before;
    const bool first = stage.metrics->claim_first_call();
    if (first) threads_before = process_thread_ids();
    const auto wall_start = steady_now_ns();
    const auto cpu_start = thread_cpu_now_ns();
    const std::int64_t frame = call();
    const auto wall_ns = steady_now_ns() - wall_start;
    stage.metrics->record(wall_start, wall_ns, thread_cpu_now_ns() - cpu_start, frame);
    if (first) {
      std::set<int> started;
      for (int tid : process_thread_ids()) {
        if (!threads_before.contains(tid)) started.insert(tid);
      }
      stage.metrics->adopt_threads(started);
    }
    return wall_ns;
  }

  void hand_on(std::size_t producer) {
    for (auto consumer : consumers_[producer]) stages_[consumer].metrics->arrive();
  }

  // Calls the stage on one frame, measured; returns the frame to pass on.
  FramePtr invoke(std::size_t index, FramePtr frame) {
    const auto& stage = stages_[index];
    stage.metrics->start();
    if (!stop_.load(std::memory_order_relaxed) && !frame->dropped()) {
      const auto wall_ns = measured_call(stage, [&] {
        try {
          if (stage.config->info->kind == StageKind::transform) {
            if (!static_cast<TransformStage*>(stage.stage)->process(*frame)) frame->drop();
          } else {
            static_cast<SinkStage*>(stage.stage)->consume(*frame);
          }
        } catch (...) {
          fail(stage, frame->index, describe(std::current_exception()));
        }
        return frame->index;
      });
      if (stage.config->info->resource != ResourceClass::io) {
        arena_busy_ns_.fetch_add(wall_ns, std::memory_order_relaxed);
      }
    }
    stage.metrics->end();
    hand_on(index);
    return frame;
  }

  // Runs a sink's prepare() on one frame, before the frame queues for consume().
  FramePtr prepare(std::size_t index, FramePtr frame) {
    const auto& stage = stages_[index];
    if (stop_.load(std::memory_order_relaxed) || frame->dropped()) return frame;
    note_engine_thread();
    const auto wall_start = steady_now_ns();
    const auto cpu_start = thread_cpu_now_ns();
    try {
      static_cast<const SinkStage*>(stage.stage)->prepare(*frame);
    } catch (...) {
      fail(stage, frame->index, describe(std::current_exception()));
    }
    const auto wall_ns = steady_now_ns() - wall_start;
    stage.metrics->record_prepare(wall_start, wall_ns, thread_cpu_now_ns() - cpu_start,
                                  frame->index);
    arena_busy_ns_.fetch_add(wall_ns, std::memory_order_relaxed);
    return frame;
  }

  void build() {
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < stages_.size(); ++i) index_of[stages_[i].config->name] = i;
    senders_.resize(stages_.size(), nullptr);
    consumers_.resize(stages_.size());
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      const auto& input = stages_[i].config->input;
      if (!input.empty()) consumers_[index_of.at(input)].push_back(i);
    }
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      const auto& config = *stages_[i].config;
      if (config.info->kind == StageKind::source) {
        entry_ = std::make_unique<flow::broadcast_node<FramePtr>>(graph_);
        senders_[i] = entry_.get();
        continue;
      }
      const std::size_t concurrency = config.concurrency.unlimited
                                          ? std::size_t{flow::unlimited}
                                          : static_cast<std::size_t>(config.concurrency.count);
      flow::receiver<FramePtr>* receiver = nullptr;
      if (config.info->resource == ResourceClass::io) {
        auto* node = make_io_node(i, config.concurrency.count);
        receiver = node;
        // An async_node takes successors only on its output port.
        senders_[i] = &flow::output_port<0>(*node);
      } else {
        auto node = std::make_unique<FrameNode>(
            graph_, concurrency, [this, i](FramePtr frame) { return invoke(i, std::move(frame)); });
        receiver = node.get();
        senders_[i] = node.get();
        nodes_.push_back(std::move(node));
      }
      if (config.info->ordering == Ordering::serial_in_order) {
        auto sequencer = std::make_unique<flow::sequencer_node<FramePtr>>(
            graph_, [](const FramePtr& frame) { return static_cast<std::size_t>(frame->index); });
        flow::make_edge(*sequencer, *receiver);
        receiver = sequencer.get();
        nodes_.push_back(std::move(sequencer));
      }
      if (config.info->prepares) {
        auto prepare_node = std::make_unique<FrameNode>(
            graph_, flow::unlimited,
            [this, i](FramePtr frame) { return prepare(i, std::move(frame)); });
        flow::make_edge(*prepare_node, *receiver);
        receiver = prepare_node.get();
        nodes_.push_back(std::move(prepare_node));
      }
      const auto producer = index_of.at(config.input);
      if (consumers_[producer].size() > 1) {
        // Branches must not share a Frame: each may replace the image or drop the frame.
        auto copy = std::make_unique<FrameNode>(graph_, flow::unlimited, [](FramePtr frame) {
          return std::make_shared<Frame>(*frame);
        });
        flow::make_edge(*copy, *receiver);
        receiver = copy.get();
        nodes_.push_back(std::move(copy));
      }
      flow::make_edge(*senders_[producer], *receiver);
    }
  }

  AsyncNode* make_io_node(std::size_t index, int threads) {
    const auto& stage = stages_[index];
    auto worker = std::make_unique<IoWorker>();
    auto* raw = worker.get();
    // In-order and serial stages must enqueue in arrival order, so their node is serial.
    const std::size_t node_concurrency = stage.config->info->ordering == Ordering::parallel
                                             ? std::size_t{flow::unlimited}
                                             : std::size_t{flow::serial};
    auto node = std::make_unique<AsyncNode>(
        graph_, node_concurrency, [raw](const FramePtr& frame, AsyncNode::gateway_type& gateway) {
          gateway.reserve_wait();
          raw->queue.push(frame);
        });
    raw->node = node.get();
    // Listed before its threads start, so that execute() stops the ones that did.
    io_workers_.push_back(std::move(worker));
    for (int t = 0; t < threads && !stop_; ++t) {
      auto thread = start_thread(
          "io thread #" + std::to_string(t) + " of stage '" + stage.config->name + "'",
          [this, raw, index, t] {
            names_.name_current("io " + stages_[index].config->name + " #" + std::to_string(t));
            const bool forwards = stages_[index].config->info->kind == StageKind::transform;
            for (;;) {
              FramePtr frame;
              raw->queue.pop(frame);
              if (!frame) return;
              frame = invoke(index, std::move(frame));
              if (forwards) raw->node->gateway().try_put(frame);
              frame.reset();
              raw->node->gateway().release_wait();
            }
          });
      if (thread.joinable()) raw->threads.push_back(std::move(thread));
    }
    auto* async_node = node.get();
    nodes_.push_back(std::move(node));
    return async_node;
  }

  void run_source() {
    const auto& stage = stages_.front();
    auto* source = static_cast<SourceStage*>(stage.stage);
    names_.name_current("source " + stage.config->name);
    for (std::int64_t index = 0;; ++index) {
      const auto wait_start = steady_now_ns();
      auto slot = budget_.acquire(stop_, completions_);
      stage.metrics->add_blocked(steady_now_ns() - wait_start);
      if (!slot) break;
      std::optional<Frame> frame;
      measured_call(stage, [&] {
        try {
          frame = source->next();
        } catch (...) {
          fail(stage, index, describe(std::current_exception()));
        }
        return frame ? index : std::int64_t{-1};
      });
      if (!frame || stop_) break;
      frame->index = index;
      if (frame->source.empty()) frame->source = input_path_;
      frame->hold_flight_slot(std::move(slot));
      hand_on(0);
      entry_->try_put(std::make_shared<Frame>(std::move(*frame)));
    }
    graph_.release_wait();
  }

  void take_sample(std::int64_t cpu_at_start) {
    Sample sample;
    sample.t_ns = steady_now_ns() - options_.run_start_ns;
    sample.frames_done = completions_.count();
    sample.process_cpu_ns = process_cpu_ns() - cpu_at_start;
    sample.in_flight = budget_.in_use();
    for (const auto& stage : stages_) {
      sample.queued.push_back(stage.metrics->queued());
      stage.metrics->sample_helper_threads();
    }
    samples_.push_back(std::move(sample));
  }

  void run_monitor() {
    const auto cpu_at_start = process_cpu_ns();
    std::unique_lock lock(monitor_mutex_);
    for (;;) {
      if (options_.sample) take_sample(cpu_at_start);
      if (options_.cancel && options_.cancel->load() && !stop_) {
        fail(stages_.front(), -1, "cancelled");
      }
      if (monitor_wake_.wait_for(lock, std::chrono::nanoseconds(options_.sample_interval_ns),
                                 [this] { return graph_done_; })) {
        break;
      }
    }
    if (options_.sample) take_sample(cpu_at_start);
  }

  const std::vector<GraphStage>& stages_;
  FlightBudget& budget_;
  FrameCompletions& completions_;
  ThreadNames& names_;
  const std::string input_path_;
  const GraphOptions options_;
  std::vector<std::vector<std::size_t>> consumers_;

  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> arena_busy_ns_{0};  // in cpu stages' calls and prepare()
  std::mutex error_mutex_;
  std::optional<RunError> error_;
  std::mutex monitor_mutex_;
  std::condition_variable monitor_wake_;
  bool graph_done_ = false;
  std::vector<Sample> samples_;

  // Declared before the nodes and workers so it is destroyed after them.
  flow::graph graph_;
  std::unique_ptr<flow::broadcast_node<FramePtr>> entry_;
  std::vector<flow::sender<FramePtr>*> senders_;
  std::vector<std::unique_ptr<flow::graph_node>> nodes_;
  std::vector<std::unique_ptr<IoWorker>> io_workers_;
};

}  // namespace

GraphOutcome execute_graph(const std::vector<GraphStage>& stages, FlightBudget& budget,
                           FrameCompletions& completions, ThreadNames& thread_names,
                           const std::string& input_path, const GraphOptions& options) {
  GraphRun run(stages, budget, completions, thread_names, input_path, options);
  return run.execute();
}

}  // namespace framepipe
