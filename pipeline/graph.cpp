#include "pipeline/graph.h"

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/flow_graph.h>

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "pipeline/evenly_thinned.h"

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

// Tells the observers about conversions of the source's deferred pixels, as calls of the
// source (stage 0), on whichever thread they run.
class SourceConversions : public ConversionWatcher {
 public:
  explicit SourceConversions(const StageObservers& observers) : observers_(observers) {}
  void conversion_started(std::int64_t frame) const override {
    observers_.entry({0, CallKind::convert, frame, thread_number()});
  }
  void conversion_ended(std::int64_t frame, bool failed) const override {
    observers_.exit({0, CallKind::convert, frame, thread_number(), failed});
  }

 private:
  const StageObservers& observers_;
};

class GraphRun {
 public:
  GraphRun(const std::vector<GraphStage>& stages, FlightBudget& budget,
           FrameCompletions& completions, ThreadNames& names, const StageObservers& observers,
           std::string input_path, const GraphOptions& options)
      : stages_(stages),
        budget_(budget),
        completions_(completions),
        names_(names),
        observers_(observers),
        conversions_(observers),
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
    std::lock_guard lock(error_mutex_);
    GraphOutcome outcome{error_, {}, samples_.stride(), samples_.offered()};
    const bool final_sample_kept = (samples_.offered() - 1) % samples_.stride() == 0;
    outcome.samples = samples_.take();
    // The series ends at the run's end, even when thinning left the last sample out.
    if (final_sample_ && !final_sample_kept) outcome.samples.push_back(std::move(*final_sample_));
    return outcome;
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

  void hand_on(std::size_t producer) {
    for (auto consumer : consumers_[producer]) {
      stages_[consumer].counts->queued.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Calls the stage on one frame; returns the frame to pass on.
  FramePtr invoke(std::size_t index, FramePtr frame) {
    const auto& stage = stages_[index];
    stage.counts->queued.fetch_sub(1, std::memory_order_relaxed);
    const RunningCall running(*stage.counts);
    if (!stop_.load(std::memory_order_relaxed) && !frame->dropped()) {
      try {
        if (stage.transform) {
          bool keep = true;
          observers_.observe({index, CallKind::process, frame->index},
                             [&](StageCall&) { keep = stage.transform->process(*frame); });
          if (!keep) frame->drop();
        } else {
          observers_.observe({index, CallKind::consume, frame->index},
                             [&](StageCall&) { stage.sink->consume(*frame); });
        }
      } catch (...) {
        fail_frame(stage, *frame, describe(std::current_exception()));
      }
      stage.counts->items.fetch_add(1, std::memory_order_relaxed);
    } else if (frame->item && !frame->dropped()) {
      stopped(*frame->item);
    }
    hand_on(index);
    return frame;
  }

  // A frame of an item fails its item alone: the frame flows on dropped and the run goes on.
  // Any other frame's failure stops the run.
  void fail_frame(const GraphStage& stage, Frame& frame, const std::string& message) {
    if (!frame.item) return fail(stage, frame.index, message);
    frame.item->fail(
        RunError{frame.item->path(), stage.config->name, stage.config->type, -1, message}
            .to_string());
    frame.drop();
  }

  // An item whose frames the stopping run passes on without calling the stages is not done.
  void stopped(Item& item) const {
    if (options_.cancel && options_.cancel->load()) {
      item.cancel(item.path() + ": cancelled; its outputs were removed");
    } else {
      item.fail(item.path() + ": not processed: the run stopped on another file's failure");
    }
  }

  // Runs a sink's prepare() on one frame, before the frame queues for consume().
  FramePtr prepare(std::size_t index, FramePtr frame) {
    const auto& stage = stages_[index];
    if (stop_.load(std::memory_order_relaxed) || frame->dropped()) return frame;
    try {
      observers_.observe({index, CallKind::prepare, frame->index},
                         [&](StageCall&) { stage.sink->prepare(*frame); });
    } catch (...) {
      fail_frame(stage, *frame, describe(std::current_exception()));
    }
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
            const bool forwards = stages_[index].transform != nullptr;
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
    names_.name_current("source " + stage.config->name);
    for (std::int64_t index = 0; options_.max_frames <= 0 || index < options_.max_frames; ++index) {
      const auto wait_start = steady_now_ns();
      auto slot = budget_.acquire(stop_, completions_);
      stage.counts->blocked_ns.fetch_add(steady_now_ns() - wait_start, std::memory_order_relaxed);
      if (!slot) break;
      std::optional<Frame> frame;
      try {
        observers_.observe({0, CallKind::next, index}, [&](StageCall& call) {
          frame = stage.source->next();
          if (!frame) call.frame = -1;
        });
      } catch (...) {
        fail(stage, index, describe(std::current_exception()));
      }
      if (!frame) {
        FlightBudget::return_unused(std::move(slot));
        break;
      }
      stage.counts->items.fetch_add(1, std::memory_order_relaxed);
      if (frame->item) frame->item->count_frame();
      if (stop_) {
        if (frame->item) stopped(*frame->item);
        break;
      }
      frame->index = index;
      if (frame->item) frame->source = frame->item->path();
      if (frame->source.empty()) frame->source = input_path_;
      if (frame->deferred() && !observers_.empty()) frame->watch_conversion(&conversions_);
      frame->hold_flight_slot(std::move(slot));
      hand_on(0);
      entry_->try_put(std::make_shared<Frame>(std::move(*frame)));
    }
    graph_.release_wait();
  }

  // Counts a stage's call in progress, for the monitor's view of free workers.
  class RunningCall {
   public:
    explicit RunningCall(StageCounts& counts) : counts_(counts) {
      counts_.running.fetch_add(1, std::memory_order_relaxed);
    }
    ~RunningCall() { counts_.running.fetch_sub(1, std::memory_order_relaxed); }
    RunningCall(const RunningCall&) = delete;
    RunningCall& operator=(const RunningCall&) = delete;

   private:
    StageCounts& counts_;
  };

  // Since the last look: each stage's free workers that had a frame queued spent that time
  // waiting for a thread, not for input.
  void account_thread_waits(std::int64_t& last_ns) {
    const auto now = steady_now_ns();
    const auto elapsed = now - last_ns;
    last_ns = now;
    for (const auto& stage : stages_) {
      if (stage.source) continue;
      const auto& concurrency = stage.config->concurrency;
      const int workers = concurrency.unlimited ? options_.arena_threads : concurrency.count;
      const int free = workers - stage.counts->running.load(std::memory_order_relaxed);
      const int waiting = std::min(stage.counts->queued.load(std::memory_order_relaxed), free);
      if (waiting > 0) {
        stage.counts->waiting_for_thread_ns.fetch_add(waiting * elapsed, std::memory_order_relaxed);
      }
    }
  }

  void take_sample(std::int64_t cpu_at_start, bool final = false) {
    Sample sample;
    sample.t_ns = steady_now_ns() - options_.run_start_ns;
    sample.frames_done = completions_.count();
    sample.process_cpu_ns = process_cpu_ns() - cpu_at_start;
    sample.in_flight = budget_.in_use();
    for (const auto& stage : stages_) {
      sample.queued.push_back(stage.counts->queued.load(std::memory_order_relaxed));
    }
    if (final) final_sample_ = sample;
    samples_.offer(std::move(sample));
  }

  void run_monitor() {
    const auto cpu_at_start = process_cpu_ns();
    auto waits_accounted_ns = steady_now_ns();
    std::unique_lock lock(monitor_mutex_);
    for (;;) {
      if (options_.sample) {
        take_sample(cpu_at_start);
        account_thread_waits(waits_accounted_ns);
      }
      observers_.tick();
      if (options_.cancel && options_.cancel->load() && !stop_) {
        fail(stages_.front(), -1, "cancelled");
      }
      if (monitor_wake_.wait_for(lock, std::chrono::nanoseconds(options_.sample_interval_ns),
                                 [this] { return graph_done_; })) {
        break;
      }
    }
    if (options_.sample) take_sample(cpu_at_start, true);
  }

  const std::vector<GraphStage>& stages_;
  FlightBudget& budget_;
  FrameCompletions& completions_;
  ThreadNames& names_;
  const StageObservers& observers_;
  const SourceConversions conversions_;  // outlives the frames: they die inside execute()
  const std::string input_path_;
  const GraphOptions options_;
  std::vector<std::vector<std::size_t>> consumers_;

  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::optional<RunError> error_;
  std::mutex monitor_mutex_;
  std::condition_variable monitor_wake_;
  bool graph_done_ = false;
  EvenlyThinned<Sample> samples_{kSamplesKept};
  std::optional<Sample> final_sample_;

  // Declared before the nodes and workers so it is destroyed after them.
  flow::graph graph_;
  std::unique_ptr<flow::broadcast_node<FramePtr>> entry_;
  std::vector<flow::sender<FramePtr>*> senders_;
  std::vector<std::unique_ptr<flow::graph_node>> nodes_;
  std::vector<std::unique_ptr<IoWorker>> io_workers_;
};

}  // namespace

GraphStage bind_stage(const StageConfig& config, Stage& stage, StageCounts& counts) {
  GraphStage bound;
  bound.config = &config;
  bound.counts = &counts;
  const char* base = nullptr;
  switch (config.info->kind) {
    case StageKind::source:
      bound.source = dynamic_cast<SourceStage*>(&stage);
      if (!bound.source) base = "SourceStage";
      break;
    case StageKind::transform:
      bound.transform = dynamic_cast<TransformStage*>(&stage);
      if (!bound.transform) base = "TransformStage";
      break;
    case StageKind::sink:
      bound.sink = dynamic_cast<SinkStage*>(&stage);
      if (!bound.sink) base = "SinkStage";
      break;
  }
  if (base) {
    throw std::logic_error("stage type '" + config.info->type + "' is registered as a " +
                           to_string(config.info->kind) + ", but its class does not derive from " +
                           base);
  }
  return bound;
}

GraphOutcome execute_graph(const std::vector<GraphStage>& stages, FlightBudget& budget,
                           FrameCompletions& completions, ThreadNames& thread_names,
                           const StageObservers& observers, const std::string& input_path,
                           const GraphOptions& options) {
  GraphRun run(stages, budget, completions, thread_names, observers, input_path, options);
  return run.execute();
}

}  // namespace framepipe
