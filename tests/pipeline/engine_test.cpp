// The engine's promises, tested with small fake stages at 1, 2 and 8 threads: in-order stages
// see frames by index, serial stages never run concurrently, frames in flight never exceed the
// cap, io stages stay off oneTBB workers, a failure stops the run promptly and cleanly, and
// observers are told of every stage call, in pairs, on the thread that makes it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "pipeline/analysis.h"
#include "pipeline/config.h"
#include "pipeline/report.h"
#include "pipeline/run.h"

namespace framepipe {
namespace {

using namespace std::chrono_literals;

// Counts live pixel buffers, independently of the engine's own bookkeeping.
class CountingAllocator : public cv::MatAllocator {
 public:
  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data, size_t* step,
                         cv::AccessFlag flags, cv::UMatUsageFlags usage) const override {
    auto* u = std_->allocate(dims, sizes, type, data, step, flags, usage);
    u->currAllocator = this;
    const int now = ++live_;
    int peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    return u;
  }
  bool allocate(cv::UMatData* u, cv::AccessFlag flags, cv::UMatUsageFlags usage) const override {
    return std_->allocate(u, flags, usage);
  }
  void deallocate(cv::UMatData* u) const override {
    --live_;
    std_->deallocate(u);
  }
  int live() const { return live_; }
  int peak() const { return peak_; }

 private:
  cv::MatAllocator* std_ = cv::Mat::getStdAllocator();
  mutable std::atomic<int> live_{0};
  mutable std::atomic<int> peak_{0};
};

// Deferred pixels made on demand, as decode defers its conversion to BGR.
class DeferredGray : public DeferredImage {
 public:
  explicit DeferredGray(int value) : value_(value) {}

 protected:
  cv::Mat convert() const override { return cv::Mat(8, 8, CV_8UC1, cv::Scalar(value_)); }

 private:
  int value_;
};

// What the fake stages saw, shared with the test.
struct Probe {
  std::mutex mutex;
  std::vector<std::int64_t> recorded;  // indices, in the order the recorder saw them
  std::vector<int> unmarked_values;    // first pixel seen by the branch that checks
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::set<int> io_threads;       // thread_number() of the threads that ran the io stage
  std::set<int> prepare_threads;  // thread_number() of the threads that ran prepare()
  std::atomic<std::int64_t> threw_at_ns{0};
  std::atomic<int> finished{0};
  std::atomic<int> aborted{0};
  CountingAllocator allocator;
};

class ProbeStage {
 public:
  explicit ProbeStage(Probe& probe) : probe_(probe) {}

 protected:
  Probe& probe_;
};

class FakeSource : public SourceStage, ProbeStage {
 public:
  static inline const Param<std::int64_t> count{"count", 200, "frames"};
  static inline const Param<std::int64_t> throw_at{"throw_at", -1, "index that throws"};
  static inline const Param<bool> counted{"counted", false, "count pixel buffers"};
  static inline const Param<bool> deferred{"deferred", false, "leave the pixels deferred"};

  FakeSource(Probe& probe, const Params& params)
      : ProbeStage(probe),
        count_(params[count]),
        throw_at_(params[throw_at]),
        counted_(params[counted]),
        deferred_(params[deferred]) {}
  std::optional<Frame> next() override {
    if (produced_ == throw_at_) throw std::runtime_error("source broke");
    if (produced_ == count_) return std::nullopt;
    Frame frame;
    if (deferred_) {
      frame.set_deferred(std::make_shared<DeferredGray>(static_cast<int>(produced_ % 200)));
      frame.pts = produced_++;
      return frame;
    }
    cv::Mat image;
    if (counted_) image.allocator = &probe_.allocator;
    image.create(8, 8, CV_8UC1);
    image.setTo(static_cast<int>(produced_ % 200));
    frame.set_image(image);
    frame.pts = produced_++;
    return frame;
  }
  void finish() override { ++probe_.finished; }
  void abort() noexcept override { ++probe_.aborted; }

 private:
  std::int64_t produced_ = 0;
  std::int64_t count_;
  std::int64_t throw_at_;
  bool counted_;
  bool deferred_;
};

class Jitter : public TransformStage {
 public:
  static inline const Param<std::int64_t> max_us{"max_us", 3000, "longest sleep"};

  explicit Jitter(const Params& params) : max_us_(params[max_us]) {}
  bool process(Frame&) override {
    thread_local std::mt19937 random(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(0, max_us_)(random)));
    return true;
  }

 private:
  std::int64_t max_us_;
};

class Recorder : public SinkStage, ProbeStage {
 public:
  using ProbeStage::ProbeStage;
  void consume(Frame& frame) override {
    std::lock_guard lock(probe_.mutex);
    probe_.recorded.push_back(frame.index);
  }
  void finish() override { ++probe_.finished; }
  void abort() noexcept override { ++probe_.aborted; }
};

// Counts how many calls are inside it at once.
class Overlap : public TransformStage, ProbeStage {
 public:
  using ProbeStage::ProbeStage;
  bool process(Frame&) override {
    const int now = ++probe_.inside;
    int seen = probe_.max_inside.load();
    while (now > seen && !probe_.max_inside.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(200us);
    --probe_.inside;
    return true;
  }
};

class Thrower : public TransformStage, ProbeStage {
 public:
  static inline const Param<std::int64_t> at{"at", 50, "index that throws"};

  Thrower(Probe& probe, const Params& params) : ProbeStage(probe), at_(params[at]) {}
  bool process(Frame& frame) override {
    if (frame.index == at_) {
      probe_.threw_at_ns = steady_now_ns();
      throw std::runtime_error("boom");
    }
    return true;
  }
  void finish() override { ++probe_.finished; }
  void abort() noexcept override { ++probe_.aborted; }

 private:
  std::int64_t at_;
};

class SlowSink : public SinkStage {
 public:
  void consume(Frame&) override { std::this_thread::sleep_for(1ms); }
};

class IoProbe : public TransformStage, ProbeStage {
 public:
  using ProbeStage::ProbeStage;
  bool process(Frame&) override {
    std::this_thread::sleep_for(300us);
    std::lock_guard lock(probe_.mutex);
    probe_.io_threads.insert(thread_number());
    return true;
  }
};

class DropOdd : public TransformStage {
 public:
  bool process(Frame& frame) override { return frame.index % 2 == 0; }
};

// Replaces the image (as real filters do) with a constant 255 image.
class Mark : public TransformStage {
 public:
  bool process(Frame& frame) override {
    frame.set_image(cv::Mat(frame.image().size(), frame.image().type(), cv::Scalar::all(255)));
    return true;
  }
};

class CheckUnmarked : public SinkStage, ProbeStage {
 public:
  using ProbeStage::ProbeStage;
  void consume(Frame& frame) override {
    std::this_thread::sleep_for(100us);  // let the marking branch run first
    std::lock_guard lock(probe_.mutex);
    probe_.unmarked_values.push_back(frame.image().at<uchar>(0, 0));
  }
};

struct PreparedIndex : PreparedFrame {
  explicit PreparedIndex(std::int64_t v) : value(v) {}
  std::int64_t value;
};

// An io sink in index order whose prepare() runs in parallel: prepare reads the pixels and
// leaves a value derived from the frame index in Frame::prepared (or throws at `throw_at`);
// consume records the index only when the value it finds is the one prepared for that very
// frame.
class PreparingSink : public SinkStage, ProbeStage {
 public:
  static inline const Param<std::int64_t> throw_at{"throw_at", -1, "index whose prepare() throws"};

  PreparingSink(Probe& probe, const Params& params)
      : ProbeStage(probe), throw_at_(params[throw_at]) {}
  void prepare(Frame& frame) const override {
    if (frame.index == throw_at_) throw std::runtime_error("prepare broke");
    if (frame.image().empty()) throw std::runtime_error("prepare found no pixels");
    const int now = ++probe_.inside;
    int seen = probe_.max_inside.load();
    while (now > seen && !probe_.max_inside.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(300us);
    --probe_.inside;
    {
      std::lock_guard lock(probe_.mutex);
      probe_.prepare_threads.insert(thread_number());
    }
    frame.prepared = std::make_shared<PreparedIndex>(frame.index * 7 + 1);
  }
  void consume(Frame& frame) override {
    const auto* prepared = frame.prepared_as<PreparedIndex>();
    std::lock_guard lock(probe_.mutex);
    probe_.io_threads.insert(thread_number());
    probe_.recorded.push_back(prepared && prepared->value == frame.index * 7 + 1 ? frame.index
                                                                                 : -1);
  }

 private:
  std::int64_t throw_at_;
};

// An observer that checks the contract as calls come: entry and exit in pairs, nested as calls
// nest, each notified on the thread that makes the call. Serialised by a mutex: a test probe.
class CallProbe : public StageObserver {
 public:
  using Key = std::pair<std::size_t, CallKind>;  // stage, call kind

  void on_entry(const StageCall& call) override {
    std::lock_guard lock(mutex_);
    if (call.thread != thread_number()) ++wrong_thread;
    auto& open = open_[call.thread];
    // A conversion runs inside the call that first read the pixels.
    if (call.kind == CallKind::convert && (open.empty() || open.back().kind == CallKind::convert)) {
      ++conversions_outside_calls;
    }
    open.push_back(call);
    ++entries[{call.stage, call.kind}];
  }
  void on_exit(const StageCall& call) override {
    std::lock_guard lock(mutex_);
    if (call.thread != thread_number()) ++wrong_thread;
    auto& open = open_[call.thread];
    const bool pairs =
        !open.empty() && open.back().stage == call.stage && open.back().kind == call.kind &&
        (open.back().frame == call.frame || (call.kind == CallKind::next && call.frame == -1));
    if (!pairs) {
      ++unpaired;
      return;
    }
    open.pop_back();
    ++exits[{call.stage, call.kind}];
    threads[{call.stage, call.kind}].insert(call.thread);
    frames[{call.stage, call.kind}].push_back(call.frame);
    if (call.failed) failed.push_back(call);
  }
  int left_open() const {
    int count = 0;
    for (const auto& [thread, open] : open_) count += static_cast<int>(open.size());
    return count;
  }

  std::map<Key, int> entries;
  std::map<Key, int> exits;
  std::map<Key, std::set<int>> threads;
  std::map<Key, std::vector<std::int64_t>> frames;  // on exit
  std::vector<StageCall> failed;
  int wrong_thread = 0;
  int unpaired = 0;
  int conversions_outside_calls = 0;

 private:
  std::mutex mutex_;
  std::map<int, std::vector<StageCall>> open_;  // per thread, innermost last
};

// Every index from 0 to count - 1, once each, in any order.
bool each_index_once(std::vector<std::int64_t> frames, std::int64_t count) {
  std::sort(frames.begin(), frames.end());
  if (frames.size() != static_cast<std::size_t>(count)) return false;
  for (std::int64_t i = 0; i < count; ++i) {
    if (frames[static_cast<std::size_t>(i)] != i) return false;
  }
  return true;
}

StageInfo info(std::string type, StageKind kind, ResourceClass resource, Ordering ordering,
               std::function<std::unique_ptr<Stage>(const StageSetup&)> create,
               std::vector<ParamSpec> params = {}) {
  const auto example = "- { type: " + type + " }";
  return {.type = std::move(type),
          .kind = kind,
          .resource = resource,
          .ordering = ordering,
          .summary = "test stage",
          .example = example,
          .params = std::move(params),
          .create = std::move(create)};
}

class EngineTest : public ::testing::TestWithParam<int> {
 protected:
  EngineTest() {
    using K = StageKind;
    using R = ResourceClass;
    using O = Ordering;
    auto& p = probe_;
    registry_.add(
        info("fake_source", K::source, R::io, O::serial_in_order,
             [&p](const StageSetup& s) { return std::make_unique<FakeSource>(p, s.params); },
             {FakeSource::count, FakeSource::throw_at, FakeSource::counted, FakeSource::deferred}));
    registry_.add(info("jitter", K::transform, R::cpu, O::parallel,
                       [](const StageSetup& s) { return std::make_unique<Jitter>(s.params); },
                       {Jitter::max_us}));
    registry_.add(info("record", K::sink, R::cpu, O::serial_in_order,
                       [&p](const StageSetup&) { return std::make_unique<Recorder>(p); }));
    registry_.add(info("record_io", K::sink, R::io, O::serial_in_order,
                       [&p](const StageSetup&) { return std::make_unique<Recorder>(p); }));
    registry_.add(info("overlap_serial", K::transform, R::cpu, O::serial_out_of_order,
                       [&p](const StageSetup&) { return std::make_unique<Overlap>(p); }));
    registry_.add(info("overlap_parallel", K::transform, R::cpu, O::parallel,
                       [&p](const StageSetup&) { return std::make_unique<Overlap>(p); }));
    registry_.add(info("thrower", K::transform, R::cpu, O::parallel,
                       [&p](const StageSetup& s) { return std::make_unique<Thrower>(p, s.params); },
                       {Thrower::at}));
    registry_.add(info("slow_sink", K::sink, R::cpu, O::parallel,
                       [](const StageSetup&) { return std::make_unique<SlowSink>(); }));
    registry_.add(info("io_probe", K::transform, R::io, O::parallel,
                       [&p](const StageSetup&) { return std::make_unique<IoProbe>(p); }));
    registry_.add(info("drop_odd", K::transform, R::cpu, O::parallel,
                       [](const StageSetup&) { return std::make_unique<DropOdd>(); }));
    registry_.add(info("mark", K::transform, R::cpu, O::parallel,
                       [](const StageSetup&) { return std::make_unique<Mark>(); }));
    auto preparing =
        info("preparing_sink", K::sink, R::io, O::serial_in_order,
             [&p](const StageSetup& s) { return std::make_unique<PreparingSink>(p, s.params); },
             {PreparingSink::throw_at});
    preparing.prepares = true;
    registry_.add(std::move(preparing));
    registry_.add(info("check_unmarked", K::sink, R::cpu, O::parallel,
                       [&p](const StageSetup&) { return std::make_unique<CheckUnmarked>(p); }));
    // Registered as a transform, but its class is a sink: a registration mistake.
    registry_.add(info("miskinded", K::transform, R::cpu, O::parallel,
                       [&p](const StageSetup&) { return std::make_unique<Recorder>(p); }));
  }

  // Runs a pipeline whose `stages:` list is given, at the test's thread count; fails the test
  // instead of hanging when the run does not end within 60 s.
  RunResult run(const std::string& stages, int max_in_flight = 16,
                std::vector<StageObserver*> observers = {}, bool profile = true) {
    const auto yaml = "pipeline: {threads: " + std::to_string(GetParam()) +
                      ", max_frames_in_flight: " + std::to_string(max_in_flight) +
                      ", profile: " + (profile ? "true" : "false") +
                      "}\ninput: {path: fake.mp4}\nstages:\n" + stages;
    config_ = load_config_text(yaml, "test.yaml", {}, registry_);
    RunEnvironment environment;
    environment.observers = std::move(observers);
    auto future = std::async(std::launch::async,
                             [this, environment] { return run_pipeline(config_, environment); });
    if (future.wait_for(60s) != std::future_status::ready) {
      ADD_FAILURE() << "run did not end within 60 s (deadlock?)";
      std::abort();
    }
    return future.get();
  }

  Probe probe_;
  Registry registry_;
  Config config_;
};

TEST_P(EngineTest, InOrderSinkSeesIndicesInOrderAfterJitteryParallelStage) {
  const auto result =
      run("  - {type: fake_source, params: {count: 300}}\n"
          "  - {type: jitter, concurrency: 8}\n"
          "  - {type: record}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_EQ(probe_.recorded.size(), 300u);
  for (std::size_t i = 0; i < probe_.recorded.size(); ++i)
    ASSERT_EQ(probe_.recorded[i], (std::int64_t)i);
  EXPECT_EQ(result.frames, 300);
}

TEST_P(EngineTest, InOrderIoSinkSeesIndicesInOrder) {
  const auto result =
      run("  - {type: fake_source, params: {count: 300}}\n"
          "  - {type: jitter, concurrency: unlimited, params: {max_us: 1000}}\n"
          "  - {type: record_io}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_EQ(probe_.recorded.size(), 300u);
  for (std::size_t i = 0; i < probe_.recorded.size(); ++i)
    ASSERT_EQ(probe_.recorded[i], (std::int64_t)i);
}

TEST_P(EngineTest, SerialStageNeverRunsConcurrently) {
  const auto result =
      run("  - {type: fake_source, params: {count: 200}}\n"
          "  - {type: overlap_serial}\n"
          "  - {type: slow_sink, concurrency: 4}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  EXPECT_EQ(probe_.max_inside.load(), 1);
}

TEST_P(EngineTest, ParallelStageUsesUpToItsConcurrency) {
  const auto result =
      run("  - {type: fake_source, params: {count: 200}}\n"
          "  - {type: overlap_parallel, concurrency: 2}\n"
          "  - {type: slow_sink}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  EXPECT_LE(probe_.max_inside.load(), 2);
  if (GetParam() >= 2) {
    EXPECT_EQ(probe_.max_inside.load(), 2);
  }
}

TEST_P(EngineTest, FramesAliveNeverExceedTheFlightCap) {
  for (int cap : {1, 3, 8}) {
    SCOPED_TRACE("max_frames_in_flight " + std::to_string(cap));
    const int peak_before = probe_.allocator.peak();
    const auto result =
        run("  - {type: fake_source, params: {count: 120, counted: true}}\n"
            "  - {type: jitter, concurrency: unlimited, params: {max_us: 500}}\n"
            "  - {type: slow_sink, concurrency: unlimited}\n",
            cap);
    ASSERT_TRUE(result.ok()) << result.error->to_string();
    EXPECT_EQ(probe_.allocator.live(), 0) << "every pixel buffer is freed by the end";
    EXPECT_LE(probe_.allocator.peak(), std::max(cap, peak_before));
    EXPECT_LE(result.flight_peak, cap);
    // A slow sink fills the budget, so the cap is actually reached: the bound is doing the work.
    EXPECT_EQ(result.flight_peak, cap);
  }
}

TEST_P(EngineTest, IoStageRunsOnItsOwnThreadsNotOnTbbWorkers) {
  const auto result =
      run("  - {type: fake_source, params: {count: 150}}\n"
          "  - {type: io_probe, concurrency: 3}\n"
          "  - {type: record}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  std::set<int> io_threads;
  for (const auto& [number, name] : result.thread_names) {
    if (name.rfind("io io_probe #", 0) == 0) io_threads.insert(number);
  }
  EXPECT_EQ(io_threads.size(), 3u) << "the engine started concurrency = 3 io threads";
  EXPECT_GE(probe_.io_threads.size(), 2u) << "several io threads took frames";
  for (int number : probe_.io_threads) {
    EXPECT_TRUE(io_threads.contains(number))
        << "io stage ran on a thread not its own (a oneTBB worker?)";
  }
  ASSERT_EQ(probe_.recorded.size(), 150u);
}

TEST_P(EngineTest, SinkPrepareRunsInParallelOnWorkersBeforeInOrderConsume) {
  const auto result =
      run("  - {type: fake_source, params: {count: 200}}\n"
          "  - {type: jitter, concurrency: unlimited, params: {max_us: 500}}\n"
          "  - {type: preparing_sink}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_EQ(probe_.recorded.size(), 200u);
  for (std::size_t i = 0; i < probe_.recorded.size(); ++i)
    ASSERT_EQ(probe_.recorded[i], (std::int64_t)i) << "consume saw another frame's preparation";
  for (int number : probe_.prepare_threads) {
    EXPECT_FALSE(probe_.io_threads.contains(number)) << "prepare ran on the sink's io thread";
  }
  if (GetParam() > 1) {
    EXPECT_GE(probe_.max_inside.load(), 2) << "prepare never overlapped";
  }
}

TEST_P(EngineTest, SinkPrepareFailureStopsTheRunWithItsFrame) {
  const auto result =
      run("  - {type: fake_source, params: {count: 1000000}}\n"
          "  - {name: writer, type: preparing_sink, params: {throw_at: 40}}\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->stage, "writer");
  EXPECT_EQ(result.error->frame, 40);
  EXPECT_NE(result.error->message.find("prepare broke"), std::string::npos);
}

TEST_P(EngineTest, ExceptionStopsTheRunPromptlyWithStageFileAndFrame) {
  const auto result =
      run("  - {type: fake_source, params: {count: 1000000}}\n"
          "  - {name: explode, type: thrower, params: {at: 50}}\n"
          "  - {type: record}\n");
  const auto returned_ns = steady_now_ns();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->stage, "explode");
  EXPECT_EQ(result.error->frame, 50);
  EXPECT_EQ(result.error->to_string(), "fake.mp4: frame 50: stage 'explode' (thrower): boom");
  EXPECT_LT(returned_ns - probe_.threw_at_ns.load(), 1'000'000'000) << "ended within a second";
  EXPECT_LT(result.frames, 1000000);
  EXPECT_EQ(probe_.finished.load(), 0) << "finish() is never called after a failure";
  EXPECT_EQ(probe_.aborted.load(), 3) << "abort() is called on every opened stage";
}

TEST_P(EngineTest, SourceExceptionNamesTheSource) {
  const auto result =
      run("  - {name: src, type: fake_source, params: {count: 100, throw_at: 10}}\n"
          "  - {type: record}\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->to_string(),
            "fake.mp4: frame 10: stage 'src' (fake_source): source broke");
  EXPECT_LE(probe_.recorded.size(), 10u) << "no frame after the failure was delivered";
}

TEST_P(EngineTest, DroppedFramesKeepOrderDownstream) {
  const auto result =
      run("  - {type: fake_source, params: {count: 101}}\n"
          "  - {type: jitter, concurrency: 4, params: {max_us: 500}}\n"
          "  - {type: drop_odd}\n"
          "  - {type: record}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_EQ(probe_.recorded.size(), 51u);
  for (std::size_t i = 0; i < probe_.recorded.size(); ++i)
    EXPECT_EQ(probe_.recorded[i], (std::int64_t)(2 * i));
}

TEST_P(EngineTest, BranchesGetTheirOwnFrame) {
  const auto result =
      run("  - {name: src, type: fake_source, params: {count: 60}}\n"
          "  - {type: mark}\n"
          "  - {type: record}\n"
          "  - {type: check_unmarked, input: src}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  ASSERT_EQ(probe_.unmarked_values.size(), 60u);
  for (int v : probe_.unmarked_values) EXPECT_LT(v, 200) << "the mark branch leaked into src's";
  EXPECT_EQ(probe_.recorded.size(), 60u);
}

TEST_P(EngineTest, EveryInvocationIsMeasured) {
  const auto result =
      run("  - {type: fake_source, params: {count: 40}}\n"
          "  - {type: jitter, params: {max_us: 2000}}\n"
          "  - {type: record}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  const auto& jitter = result.stages[1];
  EXPECT_EQ(jitter.items, 40);
  std::int64_t frames_seen = 0;
  std::int64_t busy = 0;
  for (const auto& call : jitter.invocations) {
    frames_seen += call.frame >= 0;
    busy += call.wall_ns;
    // Reading the clocks and notifying the observers costs CPU time that the wall interval
    // partly leaves out: tens of microseconds under a sanitizer, which a sleep drawn near zero
    // does not outweigh.
    constexpr std::int64_t kMeasuringCostNs = 100'000;
    EXPECT_LE(call.cpu_ns, 2 * call.wall_ns + kMeasuringCostNs)
        << "a sleeping stage cannot use more CPU than wall";
  }
  EXPECT_EQ(frames_seen, 40);
  EXPECT_EQ(busy, jitter.busy_ns);
  EXPECT_LT(jitter.cpu_ns, jitter.busy_ns) << "sleeping is off-CPU time";
  EXPECT_EQ(result.stages[0].items, 40) << "the source's items are the frames it produced";
}

TEST_P(EngineTest, ARunLongerThanTheRecordCapKeepsAnEvenSampleAndTheReportSaysSo) {
  constexpr auto kFrames = static_cast<std::int64_t>(kInvocationsKeptPerStage) + 1000;
  const auto result = run("  - {type: fake_source, params: {count: " + std::to_string(kFrames) +
                          "}}\n"
                          "  - {type: record}\n");
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  const auto& sink = result.stages[1];
  EXPECT_EQ(sink.items, kFrames);
  EXPECT_EQ(sink.invocations_total, kFrames + 2) << "open, a consume per frame, finish";
  EXPECT_LE(sink.invocations.size(), kInvocationsKeptPerStage);
  EXPECT_GE(sink.invocations.size(), kInvocationsKeptPerStage / 2);
  EXPECT_EQ(sink.frame_call_times.count(), kFrames) << "every call's time, kept or not";
  EXPECT_LE(result.samples.size(), kSamplesKept + 1);
  const auto report = build_report(config_, result, analyze(config_, result));
  EXPECT_EQ(report["stages"][1]["invocations_total"], kFrames + 2);
  EXPECT_EQ(report["stages"][1]["invocations_kept"], sink.invocations.size());
  EXPECT_EQ(build_trace(result)["otherData"]["invocations_kept"],
            result.stages[0].invocations.size() + sink.invocations.size());
}

TEST_P(EngineTest, ObserversSeeEveryCallInPairsOnTheCallingThread) {
  CallProbe calls;
  const auto result =
      run("  - {type: fake_source, params: {count: 100, deferred: true}}\n"
          "  - {type: jitter, concurrency: unlimited, params: {max_us: 300}}\n"
          "  - {type: preparing_sink}\n",
          16, {&calls});
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  using K = CallKind;
  EXPECT_EQ(calls.wrong_thread, 0) << "notified on another thread than the call's";
  EXPECT_EQ(calls.unpaired, 0) << "an exit without its entry";
  EXPECT_EQ(calls.left_open(), 0) << "an entry without its exit";
  EXPECT_EQ(calls.entries, calls.exits);
  const std::map<CallProbe::Key, int> expected = {
      {{0, K::open}, 1},      {{1, K::open}, 1},      {{2, K::open}, 1},
      {{0, K::next}, 101},  // 100 frames, then the end of the stream
      {{0, K::convert}, 100}, {{1, K::process}, 100}, {{2, K::prepare}, 100},
      {{2, K::consume}, 100}, {{0, K::finish}, 1},    {{1, K::finish}, 1},
      {{2, K::finish}, 1}};
  EXPECT_EQ(calls.exits, expected) << "each call once; no abort in a run that succeeds";
  auto next_frames = calls.frames[{0, K::next}];
  EXPECT_EQ(next_frames.back(), -1) << "the last next() produced no frame";
  next_frames.pop_back();
  EXPECT_TRUE(each_index_once(next_frames, 100));
  for (auto kind : {K::convert, K::process, K::prepare, K::consume}) {
    const std::size_t stage = kind == K::convert ? 0 : kind == K::process ? 1 : 2;
    EXPECT_TRUE(each_index_once(calls.frames[{stage, kind}], 100)) << to_string(kind);
  }
  EXPECT_EQ(calls.conversions_outside_calls, 0) << "the conversion runs inside a stage's call";
  // The stages recorded their own threads: the observer saw the same ones.
  EXPECT_EQ((calls.threads[{2, K::prepare}]), probe_.prepare_threads);
  EXPECT_EQ((calls.threads[{2, K::consume}]), probe_.io_threads);
  // The profiler, the other observer, saw them too: a conversion is the source's, beside its
  // calls, in its conversion phase.
  EXPECT_EQ(result.stages[0].phases.back().name, kConversionPhase);
  EXPECT_EQ(result.stages[0].phases.back().items, 100);
}

TEST_P(EngineTest, ObserversSeeAFailedCallAndTheAborts) {
  CallProbe calls;
  const auto result =
      run("  - {type: fake_source, params: {count: 1000000}}\n"
          "  - {name: explode, type: thrower, params: {at: 50}}\n"
          "  - {type: record}\n",
          16, {&calls});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(calls.unpaired, 0);
  EXPECT_EQ(calls.left_open(), 0);
  ASSERT_EQ(calls.failed.size(), 1u);
  EXPECT_EQ(calls.failed[0].stage, 1u);
  EXPECT_EQ(calls.failed[0].kind, CallKind::process);
  EXPECT_EQ(calls.failed[0].frame, 50);
  for (std::size_t stage = 0; stage < 3; ++stage) {
    EXPECT_EQ((calls.exits[{stage, CallKind::abort}]), 1) << "stage " << stage;
    EXPECT_EQ((calls.exits[{stage, CallKind::finish}]), 0) << "stage " << stage;
  }
}

TEST_P(EngineTest, ProfileOffAttachesNoProfilerButCountsFramesAndLatencies) {
  CallProbe calls;
  const auto result =
      run("  - {type: fake_source, params: {count: 80, deferred: true}}\n"
          "  - {type: jitter, params: {max_us: 300}}\n"
          "  - {type: preparing_sink}\n",
          16, {&calls}, /*profile=*/false);
  ASSERT_TRUE(result.ok()) << result.error->to_string();
  EXPECT_FALSE(result.profiled);
  EXPECT_EQ(result.frames, 80);
  // Every frame's latency, from the engine. (One more entry today: the slot the source takes
  // for the next() that finds the end of the stream is recorded as a completion too.)
  EXPECT_GE(result.latencies_ns.count(), 80);
  EXPECT_TRUE(result.samples.empty());
  EXPECT_EQ(result.arena_busy_ns, 0);
  for (const auto& stage : result.stages) {
    EXPECT_EQ(stage.items, 80) << stage.name;
    EXPECT_TRUE(stage.invocations.empty()) << stage.name << ": no profiler, no invocations";
    EXPECT_TRUE(stage.phases.empty()) << stage.name;
    EXPECT_EQ(stage.busy_ns, 0) << stage.name;
    EXPECT_EQ(stage.cpu_ns, 0) << stage.name;
  }
  // Observers still work without the profiler.
  EXPECT_EQ((calls.exits[{1, CallKind::process}]), 80);
  EXPECT_EQ((calls.exits[{0, CallKind::convert}]), 80);
  EXPECT_EQ(calls.unpaired, 0);
}

TEST_P(EngineTest, StageWhoseClassIsNotItsKindFailsBeforeOpening) {
  const auto result =
      run("  - {type: fake_source, params: {count: 10}}\n"
          "  - {name: liar, type: miskinded}\n"
          "  - {type: record}\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->stage, "liar");
  EXPECT_EQ(result.error->message,
            "stage type 'miskinded' is registered as a transform, but its class does not derive "
            "from TransformStage");
  EXPECT_EQ(probe_.aborted.load(), 1) << "the opened source is aborted";
  EXPECT_TRUE(probe_.recorded.empty());
}

INSTANTIATE_TEST_SUITE_P(Threads, EngineTest, ::testing::Values(1, 2, 8),
                         [](const auto& info) { return "threads" + std::to_string(info.param); });

}  // namespace
}  // namespace framepipe
