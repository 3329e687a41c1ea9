#include "pipeline/graph.h"

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/flow_graph.h>

#include <exception>
#include <map>
#include <mutex>
#include <thread>

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

class GraphRun {
 public:
  GraphRun(const std::vector<GraphStage>& stages, FlightBudget& budget, ThreadNames& names,
           std::string input_path)
      : stages_(stages), budget_(budget), names_(names), input_path_(std::move(input_path)) {}

  std::optional<RunError> execute() {
    build();
    graph_.reserve_wait();  // held by the source thread until it ends
    std::thread source([this] { run_source(); });
    graph_.wait_for_all();
    source.join();
    for (auto& worker : io_workers_) {
      for (std::size_t i = 0; i < worker->threads.size(); ++i) worker->queue.push(nullptr);
      for (auto& thread : worker->threads) thread.join();
    }
    std::lock_guard lock(error_mutex_);
    return error_;
  }

 private:
  struct IoWorker {
    oneapi::tbb::concurrent_bounded_queue<FramePtr> queue;
    std::vector<std::thread> threads;
    AsyncNode* node = nullptr;
  };

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

  // Calls the stage on one frame, measured; returns the frame to pass on.
  FramePtr invoke(const GraphStage& stage, FramePtr frame) {
    if (stop_.load(std::memory_order_relaxed) || frame->dropped()) return frame;
    const auto wall_start = steady_now_ns();
    const auto cpu_start = thread_cpu_now_ns();
    try {
      if (stage.config->info->kind == StageKind::transform) {
        if (!static_cast<TransformStage*>(stage.stage)->process(*frame)) frame->drop();
      } else {
        static_cast<SinkStage*>(stage.stage)->consume(*frame);
      }
    } catch (...) {
      fail(stage, frame->index, describe(std::current_exception()));
    }
    stage.metrics->record(wall_start, steady_now_ns() - wall_start, thread_cpu_now_ns() - cpu_start,
                          frame->index);
    return frame;
  }

  void build() {
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < stages_.size(); ++i) index_of[stages_[i].config->name] = i;
    senders_.resize(stages_.size(), nullptr);
    std::vector<int> consumer_count(stages_.size(), 0);
    for (const auto& stage : stages_) {
      if (!stage.config->input.empty()) ++consumer_count[index_of.at(stage.config->input)];
    }
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      const auto& stage = stages_[i];
      const auto& config = *stage.config;
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
        auto* node = make_io_node(stage, config.concurrency.count);
        receiver = node;
        // An async_node takes successors only on its output port.
        senders_[i] = &flow::output_port<0>(*node);
      } else {
        auto node = std::make_unique<FrameNode>(
            graph_, concurrency, [this, &stage](FramePtr frame) { return invoke(stage, frame); });
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
      const auto producer = index_of.at(config.input);
      if (consumer_count[producer] > 1) {
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

  AsyncNode* make_io_node(const GraphStage& stage, int threads) {
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
    for (int t = 0; t < threads; ++t) {
      raw->threads.emplace_back([this, raw, &stage, t] {
        names_.name_current("io " + stage.config->name + " #" + std::to_string(t));
        const bool forwards = stage.config->info->kind == StageKind::transform;
        for (;;) {
          FramePtr frame;
          raw->queue.pop(frame);
          if (!frame) return;
          frame = invoke(stage, std::move(frame));
          if (forwards) raw->node->gateway().try_put(frame);
          frame.reset();
          raw->node->gateway().release_wait();
        }
      });
    }
    auto* async_node = node.get();
    nodes_.push_back(std::move(node));
    io_workers_.push_back(std::move(worker));
    return async_node;
  }

  void run_source() {
    const auto& stage = stages_.front();
    auto* source = static_cast<SourceStage*>(stage.stage);
    names_.name_current("source " + stage.config->name);
    for (std::int64_t index = 0;; ++index) {
      auto slot = budget_.acquire(stop_);
      if (!slot) break;
      const auto wall_start = steady_now_ns();
      const auto cpu_start = thread_cpu_now_ns();
      std::optional<Frame> frame;
      try {
        frame = source->next();
      } catch (...) {
        fail(stage, index, describe(std::current_exception()));
      }
      stage.metrics->record(wall_start, steady_now_ns() - wall_start,
                            thread_cpu_now_ns() - cpu_start, frame ? index : -1);
      if (!frame || stop_) break;
      frame->index = index;
      if (frame->source.empty()) frame->source = input_path_;
      frame->hold_flight_slot(std::move(slot));
      entry_->try_put(std::make_shared<Frame>(std::move(*frame)));
    }
    graph_.release_wait();
  }

  const std::vector<GraphStage>& stages_;
  FlightBudget& budget_;
  ThreadNames& names_;
  const std::string input_path_;

  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::optional<RunError> error_;

  // Declared before the nodes and workers so it is destroyed after them.
  flow::graph graph_;
  std::unique_ptr<flow::broadcast_node<FramePtr>> entry_;
  std::vector<flow::sender<FramePtr>*> senders_;
  std::vector<std::unique_ptr<flow::graph_node>> nodes_;
  std::vector<std::unique_ptr<IoWorker>> io_workers_;
};

}  // namespace

std::optional<RunError> execute_graph(const std::vector<GraphStage>& stages, FlightBudget& budget,
                                      ThreadNames& thread_names, const std::string& input_path) {
  GraphRun run(stages, budget, thread_names, input_path);
  return run.execute();
}

}  // namespace framepipe
